import { Command, CommanderError, Option } from 'commander';
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

/**
 * Parsed with commander (the CLI library of every Sonde command line): its
 * unknown-option error carries the closest flag, which we pass on in our own
 * title/body form. It reports instead of printing or exiting.
 */
export function parseOptions(argv: string[]): Options {
  const program = new Command('create-sonde-pack')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .helpOption(false)
    .showSuggestionAfterError(true)
    .argument('[directory...]')
    .allowExcessArguments(true);
  const attributes = new Map<string, string>();
  for (const f of FLAGS) {
    // A plain boolean flag, not commander's negation: `--no-install` is its own name here, as in the usage text.
    const option = new Option(`${'short' in f ? `-${f.short}, ` : ''}--${f.flag}${f.type === 'string' ? ' <value>' : ''}`);
    if (f.flag.startsWith('no-')) Object.assign(option, { negate: false });
    program.addOption(option);
    attributes.set(f.flag, option.attributeName());
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const quoted = /'(--?[\w-]+)/.exec(error.message)?.[1] ?? 'an option';
    if (error.code === 'commander.unknownOption') {
      const hint = /\(Did you mean (--?[\w-]+)\?\)/.exec(error.message)?.[1];
      throw usageError('Unknown option', `${quoted} is not an option of create-sonde-pack.${hint ? ` Did you mean ${hint}?` : ''}`);
    }
    if (error.code === 'commander.optionMissingArgument')
      throw usageError('Missing value', `${/--[\w-]+/.exec(error.message)?.[0] ?? quoted} needs a value.`);
    throw usageError('Bad command line', error.message.replace(/^error: /, '').split('\n')[0] ?? error.message);
  }
  const opts = program.opts<Record<string, string | boolean | undefined>>();
  const values: Record<string, string | boolean | undefined> = {};
  for (const [flag, attribute] of attributes) values[flag] = opts[attribute];
  const positionals = program.args;
  if (positionals.length > 1)
    throw usageError(
      'Too many arguments',
      `Expected one directory, got ${positionals.length}: ${positionals.join(' ')}.`,
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
    directory: positionals[0],
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
