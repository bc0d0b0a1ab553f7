import { AgentError } from './errors.js';

/**
 * The agent never runs as root: a compromised pack or hub would own the host.
 * Deliberately no flag, no environment variable, no config key can change this.
 */
export function refuseRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() === 0) throw new AgentError('SONDE_ERR_ROOT_REFUSED');
  if (typeof process.geteuid === 'function' && process.geteuid() === 0) throw new AgentError('SONDE_ERR_ROOT_REFUSED');
}
