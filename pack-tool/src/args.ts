import { parseArgs } from 'node:util';
import { UsageError } from './output.js';

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** parseArgs with a usage error (exit 2) that names the flag and suggests the closest one. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], spec: Spec, positionals: { min: number; max: number; what: string }, command: string): Parsed {
  const options = { ...spec, json: { type: 'boolean' as const }, help: { type: 'boolean' as const, short: 'h' } };
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
    if (unknown) {
      const hint = closest(unknown[2], Object.keys(options));
      throw new UsageError(
        `${command}: unknown option ${unknown[1]}${unknown[2]}${hint ? `; did you mean --${hint}?` : ''}`,
        `Run sonde-pack ${command} --help.`,
      );
    }
    throw new UsageError(`${command}: ${message}`, `Run sonde-pack ${command} --help.`);
  }
  const count = parsed.positionals.length;
  if (!parsed.values.help && count < positionals.min)
    throw new UsageError(`${command}: missing ${positionals.what}`, `Run sonde-pack ${command} --help.`);
  if (count > positionals.max)
    throw new UsageError(`${command}: unexpected argument ${parsed.positionals[positionals.max]}`, `Run sonde-pack ${command} --help.`);
  return parsed;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  };
  let best: { word: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(word, candidate);
    if (!best || score < best.score) best = { word: candidate, score };
  }
  return best && best.score <= Math.max(2, Math.floor(word.length / 3)) ? best.word : undefined;
}
