import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RegistryError } from '../errors.js';
import { didYouMean } from './suggest.js';

/** Exit codes: 0 ok, 1 refused or failed, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run: (argv: string[], io: Io) => Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs's own messages, in our words: which option, what it should have been, what the command accepts. */
function usageMessage(error: unknown, names: string[]): string {
  const { code, message } = error as { code?: string; message: string };
  const flags = [...names, 'json'].map((name) => `--${name}`);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    return `unknown option ${option}${didYouMean(option.split('=')[0], flags)}; this command takes ${flags.join(', ')}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    return message.includes('argument missing') ? `${option} needs a value` : `${option} takes no value`;
  return message;
}

/** parseArgs with usage errors instead of TypeErrors, and `--json` on every command. */
type WithJson<T extends Options> = T & { json: { type: 'boolean'; default: false } };
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithJson<T>; allowPositionals: true; strict: true }>
>;

export function parse<T extends Options>(argv: string[], options: T, positionals: { min: number; max: number }): Parsed<T> {
  let parsed: Parsed<T>;
  try {
    const config = {
      args: argv,
      options: { ...options, json: { type: 'boolean', default: false } } as WithJson<T>,
      allowPositionals: true as const,
      strict: true as const,
    };
    parsed = parseArgs(config);
  } catch (error) {
    throw new UsageError(usageMessage(error, Object.keys(options)));
  }
  if (parsed.positionals.length < positionals.min) throw new UsageError('missing argument');
  if (parsed.positionals.length > positionals.max) throw new UsageError(`unexpected argument ${parsed.positionals[positionals.max]}`);
  return parsed;
}

export function required<V>(value: V | undefined, flag: string): V {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

export function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag} must be an ISO date and time, e.g. 2026-01-31T12:00:00Z`);
  return date;
}

/** One output path for humans and for `--json`, so both always say the same thing. */
export function report(io: Io, json: boolean, result: Record<string, unknown>, lines: string[]): void {
  if (json) io.out(JSON.stringify(result, null, 2));
  else for (const line of lines) io.out(line);
}

export function reportError(io: Io, json: boolean, error: unknown): number {
  if (error instanceof UsageError) {
    if (json) io.out(JSON.stringify({ ok: false, code: 'SONDE_ERR_USAGE', reason: error.message }));
    else io.err(`sonde-registry: ${error.message} (see sonde-registry help)`);
    return EXIT_USAGE;
  }
  if (error instanceof RegistryError) {
    if (json) io.out(JSON.stringify({ ok: false, code: error.code, reason: error.message, ...(error.file ? { file: error.file } : {}) }));
    else io.err(`sonde-registry: ${error.code}: ${error.message}`);
    return EXIT_REFUSED;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (json) io.out(JSON.stringify({ ok: false, code: 'SONDE_ERR_INTERNAL', reason: message }));
  else io.err(`sonde-registry: unexpected error: ${message}`);
  return EXIT_REFUSED;
}
