import { createHmac } from 'node:crypto';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import type { Sealer } from '../crypto/index.js';
import type { AuditEntryInput, AuditLog, AuditRecord } from '../services.js';
import { GENESIS_HASH } from '../store/sqlite/audit.js';
import type { HubStore } from '../store/types.js';

const CHECKPOINT_SETTING = 'audit.checkpoint';
const HEAD_SETTING = 'audit.head';

/**
 * What the chain covers: every field of the entry in one normalised form, so
 * the value hashed at append time is exactly what a later read reproduces.
 */
export function chainPayload(seq: number, at: string, entry: AuditEntryInput): unknown {
  return {
    seq,
    at,
    action: entry.action,
    actor: { kind: entry.actor.kind, id: entry.actor.id ?? null, name: entry.actor.name ?? null },
    clientId: entry.clientId ?? null,
    tool: entry.tool ?? null,
    agents: entry.agents ?? [],
    probe: entry.probe ?? null,
    params: entry.params === undefined || entry.params === null ? null : (JSON.parse(JSON.stringify(entry.params)) as unknown),
    status: entry.status,
    resultBytes: entry.resultBytes ?? null,
    durationMs: entry.durationMs ?? null,
    detail: entry.detail ?? null,
  };
}

/** HMAC-SHA256(key, prevHash "\n" canonicalJson(entry)): rewriting the chain needs the key, which needs SONDE_SECRET. */
export function chainHash(key: Buffer, prevHash: string, payload: unknown): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(canonicalJson(payload)).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  /** Entries checked in this run. */
  checked: number;
  /** Entries in the log. */
  total: number;
  /** Seq the walk started from (1 for a full verify). */
  fromSeq: number;
  lastSeq: number;
  /** First entry that does not verify: modified, missing (a gap or a truncated tail) or out of order. */
  firstBrokenSeq?: number;
  reason?: string;
  full: boolean;
  durationMs: number;
}

interface Mark {
  seq: number;
  hash: string;
}

export interface HubAuditLog extends AuditLog {
  verify(options?: { full?: boolean }): VerifyResult;
}

/**
 * The append-only, keyed hash chain. Each append (and the signed head, which
 * lets verify notice a truncated tail) commits in one transaction before
 * returning. Verification is incremental: a sealed checkpoint records the last
 * verified seq and hash, so a routine verify walks only new rows; `full`
 * walks everything.
 */
export function createAuditLog(store: Pick<HubStore, 'audit' | 'settings' | 'transaction'>, key: Buffer, sealer: Sealer): HubAuditLog {
  const readMark = (setting: string): Mark | undefined => {
    const sealed = store.settings.get(setting);
    if (!sealed) return undefined;
    try {
      return JSON.parse(sealer.openText(sealed, setting)) as Mark;
    } catch {
      return { seq: -1, hash: 'unreadable' };
    }
  };
  const writeMark = (setting: string, mark: Mark): void => store.settings.set(setting, sealer.seal(JSON.stringify(mark), setting));

  return {
    append(entry: AuditEntryInput): AuditRecord {
      const at = new Date().toISOString();
      return store.transaction(() => {
        const record = store.audit.append({ ...entry, at }, (prevHash, seq) => chainHash(key, prevHash, chainPayload(seq, at, entry)));
        writeMark(HEAD_SETTING, { seq: record.seq, hash: record.hash });
        return record;
      });
    },

    verify(options = {}) {
      const started = performance.now();
      const total = store.audit.count();
      const checkpoint = options.full ? undefined : readMark(CHECKPOINT_SETTING);
      const head = readMark(HEAD_SETTING);
      let prevHash = GENESIS_HASH;
      let expectSeq = 1;
      let checked = 0;
      const result = (fields: Partial<VerifyResult>): VerifyResult => ({
        ok: fields.firstBrokenSeq === undefined && fields.reason === undefined,
        checked,
        total,
        fromSeq: checkpoint ? checkpoint.seq + 1 : 1,
        lastSeq: expectSeq - 1,
        full: !checkpoint,
        durationMs: Math.round(performance.now() - started),
        ...fields,
      });

      if (checkpoint && checkpoint.seq > 0) {
        // The checkpointed entry must still be there, unchanged in place.
        const rows = store.audit.iterate(checkpoint.seq);
        const at = rows.next();
        rows.return?.(undefined); // releases the SQLite statement
        const row = at.done ? undefined : at.value;
        if (!row || row.seq !== checkpoint.seq || row.hash !== checkpoint.hash) {
          return result({ firstBrokenSeq: checkpoint.seq, reason: 'the last verified entry was changed or removed; run a full verify' });
        }
        prevHash = checkpoint.hash;
        expectSeq = checkpoint.seq + 1;
      }

      for (const record of store.audit.iterate(expectSeq)) {
        if (record.seq !== expectSeq) {
          return result({ firstBrokenSeq: expectSeq, reason: `entry ${expectSeq} is missing (next entry is ${record.seq})` });
        }
        const expected = chainHash(key, prevHash, chainPayload(record.seq, record.at, record));
        if (expected !== record.hash) {
          return result({ firstBrokenSeq: record.seq, reason: `entry ${record.seq} was modified, reordered or an earlier entry removed` });
        }
        prevHash = record.hash;
        expectSeq += 1;
        checked += 1;
      }
      const lastSeq = expectSeq - 1;
      if (head && (head.seq > lastSeq || (head.seq === lastSeq && head.hash !== prevHash) || head.seq < 0)) {
        return result({
          firstBrokenSeq: Math.min(lastSeq + 1, Math.max(head.seq, 1)),
          reason: `entries after ${lastSeq} were removed (the log head was ${head.seq})`,
        });
      }
      if (!head && lastSeq > 0) return result({ firstBrokenSeq: 1, reason: 'the signed log head is missing' });
      if (lastSeq > 0) writeMark(CHECKPOINT_SETTING, { seq: lastSeq, hash: prevHash });
      return result({});
    },
  };
}
