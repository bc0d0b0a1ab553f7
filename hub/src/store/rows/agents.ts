import { packsFromStored, sharedAttestation } from '../manifests.js';
import type { AgentRecord, AgentStore, RevokedCertStore } from '../types.js';
import { parseJson } from './json.js';

/** A row of `agents` as both backends read it. */
export interface AgentRow {
  id: string;
  name: string;
  enrolled_at: string;
  cert_pem: string | null;
  cert_serial: string | null;
  cert_not_after: string | null;
  public_key_pem: string;
  removed_at: string | null;
  attestation_baseline: string | null;
  pending_attestation: string | null;
  degraded_reasons: string;
  last_seen_at: string | null;
  agent_version: string | null;
  packs: string;
}

/**
 * A row as a record. The manifests its packs refer to (migration 5) must be known to this process first: each backend
 * reads the ones `missingManifests(row.packs)` names from `pack_manifests` and passes them to `learnManifests`.
 */
export function toAgentRecord(row: AgentRow): AgentRecord {
  const packs = packsFromStored(row.packs, (text) => parseJson<unknown>(text, []));
  return {
    id: row.id,
    name: row.name,
    enrolledAt: row.enrolled_at,
    certPem: row.cert_pem,
    certSerial: row.cert_serial,
    certNotAfter: row.cert_not_after,
    publicKeyPem: row.public_key_pem,
    removedAt: row.removed_at,
    // Shared and frozen across agents that attest the same (store/manifests.ts).
    attestationBaseline: sharedAttestation(row.attestation_baseline, (text) => parseJson<unknown>(text, null)),
    pendingAttestation: sharedAttestation(row.pending_attestation, (text) => parseJson<unknown>(text, null)),
    degradedReasons: parseJson<string[]>(row.degraded_reasons, []),
    lastSeenAt: row.last_seen_at,
    agentVersion: row.agent_version,
    packs,
  };
}

/** `INSERT INTO agents (AGENT_INSERT_COLUMNS)`: a new agent's columns, in `agentInsertValues` order. */
export const AGENT_INSERT_COLUMNS = 'id, name, enrolled_at, cert_pem, cert_serial, cert_not_after, public_key_pem';
export const agentInsertValues = (r: Parameters<AgentStore['create']>[0]): unknown[] => [
  r.id,
  r.name,
  r.enrolledAt,
  r.certPem,
  r.certSerial,
  r.certNotAfter,
  r.publicKeyPem,
];

export interface RevokedCertRow {
  serial: string;
  agent_id: string;
  revoked_at: string;
  reason: string;
}

export const toRevokedCert = (r: RevokedCertRow): Awaited<ReturnType<RevokedCertStore['list']>>[number] => ({
  serial: r.serial,
  agentId: r.agent_id,
  revokedAt: r.revoked_at,
  reason: r.reason,
});
