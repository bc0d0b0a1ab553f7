import type { AgentConfig } from '../config/schema.js';
import { detectOsSandbox, isolationGap, isolationLabel } from '@sonde/pack-sdk/sandbox';

/** Probes run inside the agent process through the permission-checked host context; no OS sandbox. */
export const ISOLATION = 'in-process: permission-checked ProbeContext (exec/read/http guards, agent files denied); no OS sandbox';

/**
 * What `sonde status`, the register message (and so the hub's agent view) show for this configuration
 * (pack-sdk/src/sandbox/README.md). A missing layer is named in the string itself, so the degradation is
 * visible wherever the isolation is, not only in a log line.
 */
export function isolationFor(config: Pick<AgentConfig, 'sandbox'>): string {
  if (config.sandbox.mode !== 'process') return ISOLATION;
  const os = config.sandbox.namespaces === 'none' ? null : detectOsSandbox();
  const gap = sandboxGapFor(config);
  return `${isolationLabel(os)}${gap ? ` (${gap})` : ''}: one sandboxed process per pack, effects brokered by the agent`;
}

/** What a pack process can still reach on this host with this configuration; undefined when nothing. */
export function sandboxGapFor(config: Pick<AgentConfig, 'sandbox'>): string | undefined {
  if (config.sandbox.mode !== 'process') return 'packs run inside the agent process';
  return isolationGap(config.sandbox.namespaces === 'none' ? null : detectOsSandbox());
}
