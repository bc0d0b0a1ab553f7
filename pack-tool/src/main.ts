import { suggestCommand } from './args.js';
import { devCommand } from './commands/dev.js';
import { manifestCommand } from './commands/manifest.js';
import { signCommand } from './commands/sign.js';
import { tryCommand } from './commands/try.js';
import { validateCommand } from './commands/validate.js';
import { EXIT_OK, EXIT_USAGE, report, type Io } from './output.js';
import { toolVersion } from './version.js';

interface Command {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[], io: Io): Promise<number>;
}

const commands: Command[] = [manifestCommand, validateCommand, signCommand, tryCommand, devCommand];

function help(io: Io): void {
  io.out('sonde-pack: build, check, sign and try a Sonde pack (exit codes: 0 ok, 1 refused or failed, 2 bad command line)\n');
  for (const command of commands) io.out(`  ${command.usage}\n      ${command.summary}\n`);
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    io.out(toolVersion());
    return EXIT_OK;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    const hint = suggestCommand(
      name,
      commands.map((c) => c.name),
    );
    io.err(
      `sonde-pack: unknown command ${name}${hint ? `; did you mean ${hint}?` : ''}\n  Next: commands are ${commands.map((c) => c.name).join(', ')}; run sonde-pack help.`,
    );
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(io, error, rest.includes('--json'));
  }
}
