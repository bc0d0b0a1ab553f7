import type { PackManifest } from '@sonde/pack-sdk';
import type { AuditEntryInput } from '../services.js';

/**
 * Types the MCP modules share, in a module that imports none of them, so the
 * tool modules (meta-tools, integration-tools) and the per-request context can
 * refer to each other's shapes without an import cycle.
 */

/** What the audit record says about a call; handlers fill it as they learn it, so a failure is recorded as precisely as a success. */
export interface AuditFacts {
  agents: string[];
  probe: string | null;
  status: AuditEntryInput['status'];
}

/** What the MCP layer needs from the hub's integration service. */
export interface IntegrationToolSource {
  /** Packs serving now (approved and verified), with the names of their instances. */
  packs(): Array<{ name: string; version: string; manifest: PackManifest; instances: string[] }>;
  /** The pack an instance belongs to, if the instance exists. */
  instancePack(instance: string): string | undefined;
  run(
    instance: string,
    probe: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<{ result: unknown; durationMs: number }>;
}
