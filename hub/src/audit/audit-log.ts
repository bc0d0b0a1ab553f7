import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import type { Sealer } from '../crypto/index.js';
import type { AuditEntryInput, AuditLog, AuditRecord } from '../services.js';
import { AUDIT_CHAIN_SOURCE, canonicalParams, GENESIS_HASH, type AuditChainSource } from '../store/sqlite/audit.js';
import { walkRanges, type RangeTuning } from './chain-ranges.js';
import type { AuditChainRow, HubStore } from '../store/types.js';

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

/**
 * The audit key as a KeyObject: Node 24 re-imports a raw Buffer key on every
 * createHmac (24 us per HMAC against 3.6 us with a KeyObject; Node 20: 4.3 vs
 * 3.9), and the chain takes two per append and one per verified row.
 */
type MacKey = Buffer | KeyObject;

/** HMAC-SHA256(key, prevHash "\n" canonicalJson(entry)): rewriting the chain needs the key, which needs SONDE_SECRET. */
export function chainHash(key: MacKey, prevHash: string, payload: unknown): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(canonicalJson(payload)).digest('hex');
}

const json = JSON.stringify;
function jsonOrNull(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : json(value);
}
function numberOrNull(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
  return json(value);
}

/**
 * `canonicalJson(chainPayload(...))` written out directly (keys in sorted
 * order): the same bytes, without building the payload object and sorting its
 * keys for every entry. `agents` and `params` are given as canonical JSON text.
 */
function chainText(
  seq: number,
  at: string,
  action: string,
  actorKind: string,
  actorId: string | null | undefined,
  actorName: string | null | undefined,
  clientId: string | null | undefined,
  tool: string | null | undefined,
  agents: string,
  probe: string | null | undefined,
  params: string | null,
  status: string,
  resultBytes: number | null | undefined,
  durationMs: number | null | undefined,
  detail: string | null | undefined,
): string {
  return (
    `{"action":${json(action)},"actor":{"id":${jsonOrNull(actorId)},"kind":${json(actorKind)},"name":${jsonOrNull(actorName)}}` +
    `,"agents":${agents},"at":${json(at)},"clientId":${jsonOrNull(clientId)},"detail":${jsonOrNull(detail)}` +
    `,"durationMs":${numberOrNull(durationMs)},"params":${params ?? 'null'},"probe":${jsonOrNull(probe)}` +
    `,"resultBytes":${numberOrNull(resultBytes)},"seq":${numberOrNull(seq)},"status":${json(status)},"tool":${jsonOrNull(tool)}}`
  );
}

function hmacHex(key: MacKey, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The chain hash of an entry being appended (equal to `chainHash(key, prevHash, chainPayload(seq, at, entry))`). */
function entryHash(key: MacKey, prevHash: string, seq: number, at: string, entry: AuditEntryInput): string {
  const text = chainText(
    seq,
    at,
    entry.action,
    entry.actor.kind,
    entry.actor.id,
    entry.actor.name,
    entry.clientId,
    entry.tool,
    canonicalJson(entry.agents ?? []),
    entry.probe,
    canonicalParams(entry.params),
    entry.status,
    entry.resultBytes,
    entry.durationMs,
    entry.detail,
  );
  return hmacHex(key, `${prevHash}\n${text}`);
}

/**
 * The hash of a stored row, from its columns as stored. Rows this version
 * wrote hold agents and params in canonical form, so that text is hashed as is;
 * for anything else (rows written before params were stored canonically) the
 * caller falls back to parsing the row (`slowRowHash`).
 */
function storedRowHash(key: MacKey, prevHash: string, row: AuditChainRow): string {
  const text = chainText(
    row[0],
    row[1],
    row[2],
    row[3],
    row[4],
    row[5],
    row[6],
    row[7],
    row[8],
    row[9],
    row[10],
    row[11],
    row[12],
    row[13],
    row[14],
  );
  return hmacHex(key, `${prevHash}\n${text}`);
}

function slowRowHash(key: MacKey, prevHash: string, row: AuditChainRow): string {
  let agents: unknown = [];
  let params: unknown = null;
  try {
    agents = JSON.parse(row[8]);
  } catch {
    agents = [];
  }
  try {
    params = row[10] === null ? null : JSON.parse(row[10]);
  } catch {
    params = null;
  }
  const entry: AuditEntryInput = {
    action: row[2],
    actor: { kind: row[3] as AuditEntryInput['actor']['kind'], id: row[4], name: row[5] },
    clientId: row[6],
    tool: row[7],
    agents: agents as string[],
    probe: row[9],
    params: params,
    status: row[11] as AuditEntryInput['status'],
    resultBytes: row[12] ?? undefined,
    durationMs: row[13] ?? undefined,
    detail: row[14],
  };
  return chainHash(key, prevHash, chainPayload(row[0], row[1], entry));
}

/**
 * The head (last seq and hash) as stored: authenticated with the audit key
 * (an HMAC costs a fraction of sealing it, and it is written on every append).
 * Heads sealed by earlier versions are still read.
 */
const HEAD_MAC_PREFIX = 'mac1:';
function headText(key: MacKey, setting: string, mark: Mark): string {
  const body = `${mark.seq}:${mark.hash}`;
  return `${HEAD_MAC_PREFIX}${body}:${hmacHex(key, `${setting}\n${body}`)}`;
}
function readHeadText(key: MacKey, setting: string, text: string): Mark {
  const parts = text.slice(HEAD_MAC_PREFIX.length).split(':');
  if (parts.length !== 3) return { seq: -1, hash: 'unreadable' };
  const [seqText, hash, mac] = parts as [string, string, string];
  const body = `${seqText}:${hash}`;
  const expected = hmacHex(key, `${setting}\n${body}`);
  const seq = Number(seqText);
  if (mac !== expected || !Number.isSafeInteger(seq)) return { seq: -1, hash: 'unreadable' };
  return { seq, hash };
}

export interface VerifyResult {
  ok: boolean;
  /** Entries checked in this run. */
  checked: number;
  /** Entries in the log (from a checkpoint: the last entry's seq, the same number while the chain is intact). */
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

/** How far a verification got: entries checked, the last intact entry, and what broke, if anything. */
interface Walk {
  checked: number;
  lastSeq: number;
  lastHash: string;
  broken?: { firstBrokenSeq: number; reason: string };
}

const missingReason = (seq: number, next?: number): string =>
  next === undefined ? `entry ${seq} is missing` : `entry ${seq} is missing (next entry is ${next})`;
const modifiedReason = (seq: number): string => `entry ${seq} was modified, reordered or an earlier entry removed`;

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
export function createAuditLog(
  store: Pick<HubStore, 'audit' | 'settings' | 'transaction'>,
  key: Buffer,
  sealer: Sealer,
  tuning: RangeTuning = {},
): HubAuditLog {
  const macKey = createSecretKey(key);
  const readMark = (setting: string): Mark | undefined => {
    const sealed = store.settings.get(setting);
    if (!sealed) return undefined;
    if (sealed.startsWith(HEAD_MAC_PREFIX)) return readHeadText(macKey, setting, sealed);
    try {
      return JSON.parse(sealer.openText(sealed, setting)) as Mark;
    } catch {
      return { seq: -1, hash: 'unreadable' };
    }
  };
  const writeMark = (setting: string, mark: Mark): void => store.settings.set(setting, sealer.seal(JSON.stringify(mark), setting));

  // One function for every append, so the store wraps it in a transaction once.
  let pending: { entry: AuditEntryInput; at: string } | undefined;
  const appendPending = (): AuditRecord => {
    const { entry, at } = pending!;
    const record = store.audit.append({ ...entry, at }, (prevHash, seq) => entryHash(macKey, prevHash, seq, at, entry));
    store.settings.set(HEAD_SETTING, headText(macKey, HEAD_SETTING, { seq: record.seq, hash: record.hash }));
    return record;
  };

  /** A stored row's hash checked against its text built here, then against its parsed values (older rows). */
  const rowIntact = (prevHash: string, row: AuditChainRow): boolean =>
    storedRowHash(macKey, prevHash, row) === row[15] || slowRowHash(macKey, prevHash, row) === row[15];

  /** Walks entries after `from.lastSeq` (to `to`, else to the end), one row at a time, building each text in JS. */
  const walkSlow = (from: Walk, to = Infinity): Walk => {
    const walk = { ...from };
    const broken = (seq: number, reason: string): Walk => ({ ...walk, broken: { firstBrokenSeq: seq, reason } });
    const iterateChain = store.audit.iterateChain?.bind(store.audit);
    const rows = iterateChain ? iterateChain(walk.lastSeq + 1) : store.audit.iterate(walk.lastSeq + 1);
    for (const row of rows) {
      const [seq, hash] = Array.isArray(row) ? [row[0], row[15]] : [row.seq, row.hash];
      if (seq > to) break;
      if (seq !== walk.lastSeq + 1) return broken(walk.lastSeq + 1, missingReason(walk.lastSeq + 1, seq));
      const intact = Array.isArray(row)
        ? rowIntact(walk.lastHash, row)
        : chainHash(macKey, walk.lastHash, chainPayload(row.seq, row.at, row)) === hash;
      if (!intact) return broken(seq, modifiedReason(seq));
      walk.lastHash = hash;
      walk.lastSeq = seq;
      walk.checked += 1;
    }
    return to !== Infinity && walk.lastSeq < to ? broken(walk.lastSeq + 1, missingReason(walk.lastSeq + 1)) : walk;
  };

  /** The row-at-a-time check of one entry the fast walk could not confirm. */
  const suspectIntact = (seq: number, prevHash: string): boolean => {
    const rows = store.audit.iterateChain!(seq);
    const first = rows.next();
    rows.return?.(undefined);
    const row = first.done ? undefined : first.value;
    return row?.[0] === seq && rowIntact(prevHash, row);
  };

  /**
   * Walks entries after `from.lastSeq`: many rows on SQLite in ranges, side by
   * side on worker threads, each row's text built by SQLite (chain-ranges.ts);
   * otherwise row by row here.
   */
  const walkChain = (from: Walk): Walk => {
    const source = (store.audit as { [AUDIT_CHAIN_SOURCE]?: AuditChainSource })[AUDIT_CHAIN_SOURCE];
    if (!source || !store.audit.iterateChain) return walkSlow(from);
    const to = source.lastSeq();
    if (to <= from.lastSeq) return from;
    const ranges = walkRanges(source, key, from.lastSeq + 1, to, from.lastHash, tuning);
    if (!ranges) return walkSlow(from);
    let walk = { ...from };
    for (const range of ranges) {
      for (const [seq, prevHash] of range.suspects) {
        if (!suspectIntact(seq, prevHash))
          return { ...walk, lastSeq: seq - 1, broken: { firstBrokenSeq: seq, reason: modifiedReason(seq) } };
        walk.checked += 1;
      }
      walk.checked += range.checked;
      if (range.resumeAt !== undefined) {
        walk = walkSlow({ ...walk, lastSeq: range.resumeAt - 1, lastHash: range.resumePrevHash! }, range.to);
        if (walk.broken) return walk;
        continue;
      }
      if (range.missing) {
        const { seq, next } = range.missing;
        return { ...walk, lastSeq: seq - 1, broken: { firstBrokenSeq: seq, reason: missingReason(seq, next) } };
      }
      walk.lastSeq = range.to;
      walk.lastHash = range.lastHash;
    }
    return walk;
  };

  return {
    append(entry: AuditEntryInput): AuditRecord {
      pending = { entry, at: new Date().toISOString() };
      try {
        return store.transaction(appendPending);
      } finally {
        pending = undefined;
      }
    },

    verify(options = {}) {
      const started = performance.now();
      const checkpoint = options.full ? undefined : readMark(CHECKPOINT_SETTING);
      const head = readMark(HEAD_SETTING);
      let walk: Walk = { checked: 0, lastSeq: 0, lastHash: GENESIS_HASH };
      const result = (fields: Partial<VerifyResult>): VerifyResult => ({
        ok: fields.firstBrokenSeq === undefined && fields.reason === undefined,
        checked: walk.checked,
        // COUNT(*) reads the whole table (~0.3 s at 1M rows): an intact walk from entry 1 has seen every entry, and
        // one from a checkpoint reports the last seq (the same number while the chain is intact); only a broken full
        // verify counts.
        total: checkpoint ? (store.audit.last()?.seq ?? 0) : walk.broken ? store.audit.count() : walk.lastSeq,
        fromSeq: checkpoint ? checkpoint.seq + 1 : 1,
        lastSeq: walk.lastSeq,
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
        walk = { checked: 0, lastSeq: checkpoint.seq, lastHash: checkpoint.hash };
      }

      walk = walkChain(walk);
      if (walk.broken) return result(walk.broken);
      const { lastSeq, lastHash } = walk;
      if (head && (head.seq > lastSeq || (head.seq === lastSeq && head.hash !== lastHash) || head.seq < 0)) {
        return result({
          firstBrokenSeq: Math.min(lastSeq + 1, Math.max(head.seq, 1)),
          reason: `entries after ${lastSeq} were removed (the log head was ${head.seq})`,
        });
      }
      if (!head && lastSeq > 0) return result({ firstBrokenSeq: 1, reason: 'the signed log head is missing' });
      if (lastSeq > 0) writeMark(CHECKPOINT_SETTING, { seq: lastSeq, hash: lastHash });
      return result({});
    },
  };
}
