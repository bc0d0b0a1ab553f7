import { Command, CommanderError, Option } from 'commander';

/**
 * Command-line parsing on commander, the CLI library of every Sonde command
 * line: one parser, one "did you mean" judgement, for sonde, sonde-hub,
 * sonde-pack and sonde-registry alike. Commander's errors are reworded into
 * ours by the caller; nothing here prints or exits.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  default?: string | boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** A commander program that throws instead of printing or exiting. */
function quiet(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .helpOption(false)
    .showSuggestionAfterError(true);
}

const SUGGESTION = /\(Did you mean ([^)]+)\?\)/;

/** Commander's suggestion for a mistyped command among `names`, as ` (did you mean X?)`, or ''. */
export function didYouMean(word: string, names: readonly string[]): string {
  const program = quiet('sonde-registry');
  for (const name of names) program.command(name).allowUnknownOption().allowExcessArguments(true);
  try {
    program.parse([word], { from: 'user' });
  } catch (error) {
    const match = error instanceof CommanderError ? SUGGESTION.exec(error.message)?.[1] : undefined;
    if (match) return ` (did you mean ${match}?)`;
  }
  return '';
}

/** A command line commander refused, with the reason already in our words. */
export class ArgumentError extends Error {}

function reword(error: CommanderError, specs: OptionSpecs): string {
  const flags = Object.keys(specs).map((name) => `--${name}`);
  const option = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1] ?? '';
  if (error.code === 'commander.optionMissingArgument') return `${option} needs a value`;
  if (error.code === 'commander.unknownOption') {
    const [name] = option.split('=');
    if (option.includes('=') && specs[name.replace(/^--/, '')]?.type === 'boolean') return `${name} takes no value`;
    const match = SUGGESTION.exec(error.message)?.[1];
    return `unknown option ${option}${match ? ` (did you mean ${match}?)` : ''}; this command takes ${flags.join(', ')}`;
  }
  return error.message.replace(/^error: /, '').replace(/'([^']+)'/g, '$1');
}

/** Parses `argv` against `specs`: values keyed by the flag names as written, and the positionals. */
export function parseWithCommander(
  argv: string[],
  specs: OptionSpecs,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const program = quiet('sonde-registry').argument('[args...]').allowExcessArguments(true);
  const attributes = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    const option = new Option(`--${name}${spec.type === 'string' ? ' <value>' : ''}`);
    if (spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    if (spec.default !== undefined) option.default(spec.default);
    program.addOption(option);
    attributes.set(name, option.attributeName());
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new ArgumentError(reword(error, specs));
    throw error;
  }
  const opts = program.opts<Record<string, string | boolean | string[] | undefined>>();
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, attribute] of attributes) values[name] = opts[attribute];
  return { values, positionals: program.args };
}
