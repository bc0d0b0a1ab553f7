import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

export const TEMPLATES = ['system', 'integration'] as const;
export type Template = (typeof TEMPLATES)[number];

/** One row per flag: the parser, the usage text and "did you mean" all read this table. */
const FLAGS = [
  {
    flag: 'template',
    short: 't',
    type: 'string',
    value: 'system|integration',
    help: 'system: runs on an agent host; integration: reads a product API from the hub',
  },
  { flag: 'name', short: 'n', type: 'string', value: 'NAME', help: 'pack name (default: from the folder name)' },
  { flag: 'scope', short: 's', type: 'string', value: '@SCOPE', help: 'npm scope of the package (default: none)' },
  { flag: 'probe', short: 'p', type: 'string', value: 'PROBE', help: 'name of the first probe (default: os.info / service.health)' },
  { flag: 'yes', short: 'y', type: 'boolean', help: 'take the defaults for everything not given; never prompt' },
  { flag: 'no-interactive', type: 'boolean', help: 'same as --yes' },
  { flag: 'no-install', type: 'boolean', help: 'write the files only; skip npm install' },
  { flag: 'help', short: 'h', type: 'boolean', help: 'show this text' },
  { flag: 'version', short: 'v', type: 'boolean', help: 'print the version' },
] as const;

export interface Options {
  directory?: string;
  template?: Template;
  name?: string;
  scope?: string;
  probe?: string;
  interactive: boolean;
  install: boolean;
  help: boolean;
  version: boolean;
}

export function usage(): string {
  const rows = FLAGS.map((f) => {
    const left = `${'short' in f ? `-${f.short}, ` : '    '}--${f.flag}${'value' in f ? ` ${f.value}` : ''}`;
    return `  ${left.padEnd(36)}${f.help}`;
  });
  return [
    'Usage: npm create sonde-pack@latest [DIRECTORY] -- [options]',
    '       npx create-sonde-pack [DIRECTORY] [options]',
    '',
    'Creates a Sonde pack in DIRECTORY (which must be new or empty): manifest and permissions, one probe',
    'with a parser and a typed result, recorded fixtures, tests, README, and the scripts test, lint, build,',
    'validate, sign and dev. Prompts only on a terminal; every prompt has a flag.',
    '',
    'Options:',
    ...rows,
    '',
    'Exit codes: 0 created, 1 refused or a step failed, 2 bad command line.',
  ].join('\n');
}

/** The closest known flag by edit distance, when it is close enough to be a typo. */
export function didYouMean(word: string): string | undefined {
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
  let best: { flag: string; score: number } | undefined;
  for (const { flag } of FLAGS) {
    const score = distance(word, flag);
    if (!best || score < best.score) best = { flag, score };
  }
  return best && best.score <= Math.max(2, Math.floor(word.length / 3)) ? `--${best.flag}` : undefined;
}

export function parseOptions(argv: string[]): Options {
  const options = Object.fromEntries(FLAGS.map((f) => [f.flag, { type: f.type, ...('short' in f ? { short: f.short } : {}) }])) as Record<
    string,
    { type: 'string' | 'boolean'; short?: string }
  >;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
    if (unknown) {
      const hint = didYouMean(unknown[2]);
      throw usageError(
        'Unknown option',
        `${unknown[1]}${unknown[2]} is not an option of create-sonde-pack.${hint ? ` Did you mean ${hint}?` : ''}`,
      );
    }
    if (/argument missing/.test(message)) {
      const flag = /'(--?[\w-]+)/.exec(message)?.[1] ?? 'an option';
      throw usageError('Missing value', `${flag} needs a value.`);
    }
    throw usageError('Bad command line', message.split('\n')[0] ?? message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (parsed.positionals.length > 1)
    throw usageError(
      'Too many arguments',
      `Expected one directory, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}.`,
      'Pass one directory name; options start with --.',
    );
  const template = values.template as string | undefined;
  if (template !== undefined && !(TEMPLATES as readonly string[]).includes(template))
    throw usageError(
      'Unknown template',
      `--template ${template} is not a template. system: a pack that runs on the agent's host (commands, files); integration: a pack the hub runs against a product's HTTP API.`,
      'Pass --template system or --template integration.',
    );
  return {
    directory: parsed.positionals[0],
    template: template as Template | undefined,
    name: values.name as string | undefined,
    scope: values.scope as string | undefined,
    probe: values.probe as string | undefined,
    interactive: !values.yes && !values['no-interactive'],
    install: !values['no-install'],
    help: values.help === true,
    version: values.version === true,
  };
}
