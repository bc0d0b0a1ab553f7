import { registerStart } from '../commands/start.js';
import { baseProgram, runProgram, withExitOverride } from './base.js';

/**
 * `sonde start` alone: systemd runs it at every boot and restart, and the other commands' modules (install,
 * update, doctor, trust, the progress bar, node-forge for enrollment) are not needed to reach the hub.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = baseProgram();
  registerStart(program);
  return runProgram(withExitOverride(program), argv);
}
