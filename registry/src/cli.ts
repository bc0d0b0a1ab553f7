#!/usr/bin/env node
import { indexCommand } from './cli/commands/index-cmd.js';
import { keygen } from './cli/commands/keygen.js';
import { signRelease, verifyRelease } from './cli/commands/release.js';
import { revoke } from './cli/commands/revoke.js';
import { rotate } from './cli/commands/rotate.js';
import { sign } from './cli/commands/sign.js';
import { trustCommand } from './cli/commands/trust.js';
import { verify } from './cli/commands/verify.js';
import { EXIT_OK, EXIT_USAGE, reportError, type Command, type Io } from './cli/output.js';
import { didYouMean } from './cli/args.js';

const commands: Command[] = [keygen, sign, verify, signRelease, verifyRelease, trustCommand, rotate, revoke, indexCommand];

function help(io: Io): void {
  io.out('sonde-registry: sign and verify Sonde packs, offline (exit codes: 0 ok, 1 refused or failed, 2 usage)');
  io.out('');
  for (const command of commands) io.out(`  ${command.usage}\n      ${command.summary}\n`);
  io.out('Every command accepts --json.');
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    const names = commands.map((c) => c.name);
    io.err(`sonde-registry: unknown command ${name}${didYouMean(name, names)}; commands: ${names.join(', ')}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(
      `sonde-registry ${command.usage}\n    ${command.summary}\n\nEvery command accepts --json. Exit codes: 0 ok, 1 refused or failed, 2 usage.`,
    );
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportError(io, rest.includes('--json'), error);
  }
}

const io: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };
process.exitCode = await main(process.argv.slice(2), io);
