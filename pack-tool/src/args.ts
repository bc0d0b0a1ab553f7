import { Command, CommanderError, Option } from 'commander';
import { UsageError } from './output.js';

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A commander program that reports instead of printing or exiting: its errors become our usage errors (exit 2). */
function quiet(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .helpOption(false)
    .showSuggestionAfterError(true);
}

/** Commander's message in our words: `unknown option '--sarf' (Did you mean --sarif?)` → `unknown option --sarf; did you mean --sarif?`. */
function reword(error: CommanderError): string {
  return error.message
    .replace(/^error: /, '')
    .replace(/'([^']+)'/g, '$1')
    .replace(/\s*\(Did you mean ([^)]+)\?\)/, '; did you mean $1?');
}

/**
 * Parses one command's flags with commander (the CLI library of every Sonde
 * command line, pinned in the root package.json): an unknown flag is a usage
 * error naming the closest one, every command takes --json and --help.
 */
export function parse(argv: string[], spec: Spec, positionals: { min: number; max: number; what: string }, command: string): Parsed {
  const options: Spec = { ...spec, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
  const program = quiet(`sonde-pack ${command}`).argument('[args...]').allowExcessArguments(true);
  const attributes = new Map<string, string>();
  for (const [name, shape] of Object.entries(options)) {
    const option = new Option(`${shape.short ? `-${shape.short}, ` : ''}--${name}${shape.type === 'string' ? ' <value>' : ''}`);
    if (shape.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    program.addOption(option);
    attributes.set(name, option.attributeName());
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(`${command}: ${reword(error)}`, `Run sonde-pack ${command} --help.`);
    throw error;
  }
  const opts = program.opts<Record<string, string | boolean | string[] | undefined>>();
  const values: Parsed['values'] = {};
  for (const [name, attribute] of attributes) values[name] = opts[attribute];
  const parsed: Parsed = { values, positionals: program.args };
  const count = parsed.positionals.length;
  if (!values.help && count < positionals.min)
    throw new UsageError(`${command}: missing ${positionals.what}`, `Run sonde-pack ${command} --help.`);
  if (count > positionals.max)
    throw new UsageError(`${command}: unexpected argument ${parsed.positionals[positionals.max]}`, `Run sonde-pack ${command} --help.`);
  return parsed;
}

/** `sonde-pack <name>` for a name that is no command: commander's suggestion among `names`, if one is close. */
export function suggestCommand(name: string, names: readonly string[]): string | undefined {
  const program = quiet('sonde-pack');
  for (const known of names) program.command(known).allowUnknownOption().allowExcessArguments(true);
  try {
    program.parse([name], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return /\(Did you mean ([^)]+)\?\)/.exec(error.message)?.[1];
  }
  return undefined;
}
