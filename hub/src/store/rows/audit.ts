import { canonicalParams } from '../../audit/chain-text.js';
import type { AuditEntryInput, AuditRecord } from '../../model.js';
import type { AuditChainRow } from '../types.js';
import { parseJson } from './json.js';

/** A row of `audit_log`, text as hashed (a backend that escapes text on disk decodes it before mapping). */
export interface AuditRow {
  seq: number;
  at: string;
  action: string;
  actor_kind: AuditEntryInput['actor']['kind'];
  actor_id: string | null;
  actor_name: string | null;
  client_id: string | null;
  tool: string | null;
  agents: string;
  probe: string | null;
  params: string | null;
  status: AuditEntryInput['status'];
  result_bytes: number | null;
  duration_ms: number | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export type AuditEntry = AuditEntryInput & { at: string };

/** `INSERT INTO audit_log (AUDIT_COLUMNS)`, values in `auditRowValues` order. */
export const AUDIT_COLUMNS =
  'seq, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status, result_bytes, duration_ms, detail, prev_hash, hash';
export const AUDIT_COLUMN_COUNT = AUDIT_COLUMNS.split(',').length;

/** The chained columns in `AuditChainRow` order. */
export const CHAIN_COLUMNS =
  'seq, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status, result_bytes, duration_ms, detail, hash';

/** The row an entry is stored as, given its place in the chain (`hash` already computed over it). */
export const auditRow = (entry: AuditEntry, seq: number, prevHash: string, hash: string): AuditRow => ({
  seq,
  at: entry.at,
  action: entry.action,
  actor_kind: entry.actor.kind,
  actor_id: entry.actor.id ?? null,
  actor_name: entry.actor.name ?? null,
  client_id: entry.clientId ?? null,
  tool: entry.tool ?? null,
  agents: JSON.stringify(entry.agents ?? []),
  probe: entry.probe ?? null,
  params: canonicalParams(entry.params),
  status: entry.status,
  result_bytes: entry.resultBytes ?? null,
  duration_ms: entry.durationMs ?? null,
  detail: entry.detail ?? null,
  prev_hash: prevHash,
  hash,
});

/** The columns before `prev_hash`, in `AUDIT_COLUMNS` (and `AuditChainRow`) order. */
const leadingValues = (r: Omit<AuditRow, 'prev_hash' | 'hash'>): unknown[] => [
  r.seq,
  r.at,
  r.action,
  r.actor_kind,
  r.actor_id,
  r.actor_name,
  r.client_id,
  r.tool,
  r.agents,
  r.probe,
  r.params,
  r.status,
  r.result_bytes,
  r.duration_ms,
  r.detail,
];

/** Positional, in `AUDIT_COLUMNS` order (binding by name costs a property lookup per column on every append). */
export function auditRowValues(r: AuditRow): unknown[] {
  const values = leadingValues(r);
  values.push(r.prev_hash, r.hash);
  return values;
}

export const toAuditRecord = (row: AuditRow): AuditRecord => ({
  seq: row.seq,
  at: row.at,
  hash: row.hash,
  action: row.action,
  actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
  clientId: row.client_id,
  tool: row.tool,
  agents: parseJson<string[]>(row.agents, []),
  probe: row.probe,
  params: row.params === null ? null : parseJson<unknown>(row.params, null),
  status: row.status,
  resultBytes: row.result_bytes ?? undefined,
  durationMs: row.duration_ms ?? undefined,
  detail: row.detail,
});

/** The chained columns of a row, in `AuditChainRow` order. */
export function toChainRow(r: Omit<AuditRow, 'prev_hash'>): AuditChainRow {
  const values = leadingValues(r);
  values.push(r.hash);
  return values as AuditChainRow;
}
