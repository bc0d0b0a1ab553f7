#!/usr/bin/env node
import nodeModule from 'node:module';
import { refuseRoot } from './root-guard.js';
import { printError } from './cli/output.js';

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

// Node 22.1+ keeps compiled module code on disk between runs (about a third of the import time here);
// Node 20 has no compile cache and simply skips this.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// `sonde start` loads only what the agent needs to come online.
const { runCli } = first === 'start' ? await import('./cli/start-program.js') : await import('./cli/program.js');
process.exitCode = await runCli(process.argv);
