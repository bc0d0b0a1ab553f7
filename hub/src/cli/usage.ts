import type { Command, CommanderError } from 'commander';
import { EXIT } from './output.js';

/**
 * One rule for every bad `sonde-hub` command line, whatever command it names:
 * exit 2, one `sonde-hub: …` line with commander's "did you mean" for an unknown
 * command or option, then where to read the usage. Applied to the whole command
 * tree after every command is registered, so commands added with
 * `program.addCommand` (which copies no settings) follow it too.
 */
export function applyUsageRules(program: Command): void {
  for (const command of walk(program)) {
    let pending = '';
    command
      .showSuggestionAfterError(true)
      .configureOutput({
        // Buffered: the exit handler decides what to print (a missing option can hide a mistyped one).
        outputError: (text) => {
          pending = text;
        },
      })
      .exitOverride((error: CommanderError) => {
        if (error.exitCode === 0) process.exit(EXIT.ok);
        if (error.code === 'commander.missingMandatoryOptionValue') {
          // `keys create --nmae x`: commander checks required options first; the mistyped flag is the better error.
          const mistyped = command.args.find((arg) => arg.startsWith('-') && !isKnownOption(command, arg));
          // commander's own unknown-option error (its suggestion), untyped but stable since commander 7; re-enters here.
          if (mistyped) (command as unknown as { unknownOption(flag: string): never }).unknownOption(mistyped.split('=')[0]);
        }
        // commander.help with a non-zero code: a command group without its subcommand; the help went to stderr already.
        if (error.code !== 'commander.help') {
          const lines = pending
            .trim()
            .replace(/^error: /, '')
            .split('\n');
          process.stderr.write(`sonde-hub: ${lines.join(' ')}\nRun: ${helpCommandFor(command)}\n`);
        }
        process.exit(EXIT.usage);
      });
  }
}

function* walk(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* walk(sub);
}

function isKnownOption(command: Command, arg: string): boolean {
  const flag = arg.split('=')[0];
  for (let at: Command | null = command; at; at = at.parent)
    if (at.options.some((option) => option.long === flag || option.short === flag)) return true;
  return flag === '--help' || flag === '-h';
}

function helpCommandFor(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return `sonde-hub ${names.length ? `${names.join(' ')} ` : ''}--help`;
}
