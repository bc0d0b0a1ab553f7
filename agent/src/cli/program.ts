import type { Command } from 'commander';
import { registerAudit } from '../commands/audit.js';
import { registerEnroll } from '../commands/enroll.js';
import { registerPacks } from '../commands/packs.js';
import { registerRenew } from '../commands/renew.js';
import { registerStart } from '../commands/start.js';
import { registerStatus } from '../commands/status.js';
import { registerTrust } from '../commands/trust.js';
import { registerUpdate } from '../commands/update.js';
import { baseProgram, runProgram, withExitOverride } from './base.js';

export function buildProgram(): Command {
  const program = baseProgram();
  registerEnroll(program);
  registerStart(program);
  registerRenew(program);
  registerStatus(program);
  registerPacks(program);
  registerTrust(program);
  registerAudit(program);
  registerUpdate(program);
  return withExitOverride(program);
}

/** Parses and runs; returns the exit code (usage errors are 2, help and version 0). */
export async function runCli(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
