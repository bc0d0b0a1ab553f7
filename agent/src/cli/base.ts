import { Command, CommanderError } from 'commander';
import { ExitCodes } from '../errors.js';
import { agentVersion } from '../version.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  error
  2  usage (bad command line)
  3  not enrolled
  4  hub unreachable
  5  refused: running as root (no override)
  6  enrollment refused (token invalid, expired, used; name taken)
  7  pack error (not found, invalid, refused, install failed; packs doctor found an error)
  8  audit chain broken
  9  self-update refused or failed (the current version keeps running)

Environment:
  SONDE_HOME  agent directory (default ~/.sonde): keys, config.json, packs/`;

/** The `sonde` program without its commands. */
export function baseProgram(): Command {
  return new Command()
    .name('sonde')
    .description('Sonde agent: read-only diagnostics, outbound connection to a Sonde hub')
    .version(agentVersion(), '-v, --version')
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();
}

/** Once the commands are registered: errors throw CommanderError instead of exiting the process. */
export function withExitOverride(program: Command): Command {
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Parses and runs; returns the exit code (usage errors are 2, help and version 0). */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCodes.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help')
        return ExitCodes.OK;
      return ExitCodes.USAGE;
    }
    throw error;
  }
}
