import nodeModule from 'node:module';
import { refuseRoot } from './root-guard.js';
import { printError } from './cli/output.js';
import { enablePrivateCompileCache } from './compile-cache.js';
import { resolveHome } from './home.js';

// First thing, before anything parses options or touches SONDE_HOME: commands
// that read or write keys, approvals or packs never run as root. No override.
const KEY_COMMANDS = new Set(['enroll', 'start', 'update', 'packs:install', 'packs:update', 'packs:approve', 'packs:remove']);
const [first, second] = process.argv.slice(2);
if (first && (KEY_COMMANDS.has(first) || KEY_COMMANDS.has(`${first}:${second ?? ''}`))) {
  try {
    refuseRoot();
  } catch (error) {
    process.exit(printError(error, process.argv.includes('--json')));
  }
}

// Node 22.1+ keeps compiled module code on disk between runs (about a third of the import time here), in a
// folder of the agent's own home (compile-cache.ts says why not Node's default); Node 20 skips this.
const { enableCompileCache } = nodeModule as { enableCompileCache?: (dir: string) => unknown };
enablePrivateCompileCache(enableCompileCache?.bind(nodeModule), resolveHome());
// `sonde start` loads only what the agent needs to come online.
const { runCli } = first === 'start' ? await import('./cli/start-program.js') : await import('./cli/program.js');
process.exitCode = await runCli(process.argv);
