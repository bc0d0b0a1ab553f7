import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { GENESIS_HASH, paramsDigest, verifyAuditChain, type AuditEntry, type AuditRing } from '../audit/ring.js';
import { readJsonFile, type HomePaths } from '../home.js';
import { AuditFileSchema, readLiveStatus, writeAuditFile } from '../runtime/status-file.js';
import { readUpdateState, releaseLayout, writeUpdateState, type HistoryEntry } from './layout.js';

/** The probe name update outcomes carry in the audit ring. */
export const UPDATE_AUDIT_PROBE = 'sonde.update';

function auditInput(entry: HistoryEntry) {
  return {
    requestId: entry.id,
    probe: UPDATE_AUDIT_PROBE,
    status: entry.action,
    durationMs: entry.durationMs,
    params: {
      from: entry.from,
      to: entry.to,
      ...(entry.integrity ? { integrity: entry.integrity } : {}),
      ...(entry.keyId ? { keyId: entry.keyId } : {}),
      ...(entry.code ? { code: entry.code } : {}),
    },
    time: new Date(entry.at),
  };
}

/**
 * The audit ring lives in the running agent and is mirrored to audit.json.
 * `sonde update` is a separate process, so every outcome is kept in
 * update-state.json (history, `audited: false`) and:
 * - when no agent is running, appended to audit.json right away, chained to
 *   its last entry exactly as the ring does (so `sonde audit --verify` holds);
 * - the agent appends the outcomes it has not audited yet to its ring when it
 *   starts (replayUpdateAudit), which is when a new version takes over.
 */
export function auditUpdate(paths: HomePaths, entry: HistoryEntry): void {
  const live = readLiveStatus(paths.status);
  if (live?.alive && live.status.running) return;
  let entries: AuditEntry[] = [];
  if (existsSync(paths.audit)) {
    const parsed = AuditFileSchema.safeParse(readJsonFile(paths.audit));
    // A broken or foreign file is left for `sonde audit --verify` to report, never rewritten.
    if (!parsed.success || !verifyAuditChain(parsed.data.entries).ok) return;
    entries = parsed.data.entries;
  }
  const last = entries.at(-1);
  const input = auditInput(entry);
  const base = {
    seq: last ? last.seq + 1 : 0,
    time: input.time.toISOString(),
    requestId: input.requestId,
    probe: input.probe,
    paramsSha256: paramsDigest(input.params),
    status: input.status,
    durationMs: Math.round(input.durationMs * 1000) / 1000,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  const hash = createHash('sha256').update(canonicalJson(base)).digest('hex');
  writeAuditFile(paths.audit, [...entries, { ...base, hash }]);
}

/** For the agent at start: appends update outcomes not yet in a ring, then marks them audited. Returns how many. */
export function replayUpdateAudit(paths: HomePaths, ring: Pick<AuditRing, 'append'>): number {
  const layout = releaseLayout(paths);
  if (!existsSync(layout.state)) return 0;
  const state = readUpdateState(layout);
  const pending = state.history.filter((entry) => !entry.audited);
  for (const entry of pending) {
    ring.append(auditInput(entry));
    entry.audited = true;
  }
  if (pending.length > 0) writeUpdateState(layout, state);
  return pending.length;
}
