import type { FastifyBaseLogger } from 'fastify';
import type { AuditEntryInput } from '../services.js';
import type { HubStore } from '../store/types.js';
import { heldReason } from './pack-gate.js';

/** Records once that packs are held back from serving, or changed after registration (degraded reason + audit). */
export async function holdPacks(
  agentId: string,
  held: readonly string[],
  reasons: readonly string[],
  ctx: { store: HubStore; log: FastifyBaseLogger },
  audit: (entry: Omit<AuditEntryInput, 'actor' | 'agents'>) => Promise<void>,
  prefix?: string,
): Promise<void> {
  const reason = heldReason(held, prefix);
  if (reasons.includes(reason)) return;
  ctx.log.warn({ agentId, held }, 'packs active outside the accepted attestation: agent degraded');
  await ctx.store.agents.addDegradedReason(agentId, reason);
  await audit({ action: 'agent.degraded', status: 'error', detail: reason });
}
