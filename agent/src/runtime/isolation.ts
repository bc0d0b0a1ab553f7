import type { AgentConfig } from '../config/schema.js';
import { detectOsSandbox, isolationLabel } from '@sonde/pack-sdk/sandbox';

/** Probes run inside the agent process through the permission-checked host context; no OS sandbox. */
export const ISOLATION = 'in-process: permission-checked ProbeContext (exec/read/http guards, agent files denied); no OS sandbox';

/** What `sonde status` and the register message show for this configuration (pack-sdk/src/sandbox/README.md). */
export function isolationFor(config: Pick<AgentConfig, 'sandbox'>): string {
  if (config.sandbox.mode !== 'process') return ISOLATION;
  const os = config.sandbox.namespaces === 'none' ? null : detectOsSandbox();
  return `${isolationLabel(os)}: one sandboxed process per pack, effects brokered by the agent`;
}
