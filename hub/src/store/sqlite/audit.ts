import type Database from 'better-sqlite3';
import type { AuditRecord } from '../../services.js';
import type { AuditChainRow, AuditFilter } from '../types.js';
import { GENESIS_HASH } from '../../audit/chain-text.js';
import { AUDIT_COLUMNS, auditRow, auditRowValues, CHAIN_COLUMNS, toAuditRecord, type AuditEntry, type AuditRow } from '../rows/index.js';
import type { SyncAuditStore } from './sync.js';
import { DRIVER_MODULE_PATH } from './driver.js';

/**
 * The chain text of each row (what `chainText` in hub/src/audit/chain-text.ts builds in JS),
 * built by SQLite: a row then costs one string instead of fifteen values.
 * json_quote escapes text exactly as JSON.stringify does; a REAL that is not
 * a whole number may print differently (1/3 has 17 digits here, 16 in JS).
 * A row whose text differs (that, or params stored before they were
 * canonical) fails the fast comparison and is re-checked the slow way, so a
 * difference here costs time, never a wrong verdict.
 */
// concat() (SQLite 3.44+) builds the text in one buffer; `||` copies the growing string at every step (~10 % slower).
const CHAIN_TEXT = `concat('{"action":', json_quote(action), ',"actor":{"id":', json_quote(actor_id), ',"kind":', json_quote(actor_kind),
  ',"name":', json_quote(actor_name), '},"agents":', agents, ',"at":', json_quote(at),
  ',"clientId":', json_quote(client_id), ',"detail":', json_quote(detail), ',"durationMs":',
  CASE WHEN duration_ms IS NULL THEN 'null'
       WHEN duration_ms = CAST(duration_ms AS INTEGER) AND abs(duration_ms) < 1e15 THEN CAST(CAST(duration_ms AS INTEGER) AS TEXT)
       ELSE json_quote(duration_ms) END,
  ',"params":', coalesce(params, 'null'), ',"probe":', json_quote(probe),
  ',"resultBytes":', coalesce(result_bytes, 'null'), ',"seq":', seq, ',"status":', json_quote(status),
  ',"tool":', json_quote(tool), '}')`;

/**
 * How to read the chain of one database in ranges, from any connection (the
 * verifier's worker threads open their own): `[seq, hash, text | null]` rows.
 */
export interface AuditChainSource {
  /** The database file, or undefined for an in-memory or temporary database (no other connection can open it). */
  file: string | undefined;
  /** Rows with `from <= seq <= to`, as `[seq, hash, chainText | null]`, by seq (`textRows` runs it here). */
  textSql: string;
  /** The better-sqlite3 module this process loads (what driver.ts picks), for a worker thread to `require`. */
  driverModule(): string;
  textRows(from: number, to: number): IterableIterator<[number, string, string | null]>;
  /** The stored hash of one entry (the link into a range), if it exists. */
  hashAt(seq: number): string | undefined;
  lastSeq(): number;
}

/** Where the SQLite audit store keeps its `AuditChainSource` (not part of the `AuditStore` contract). */
export const AUDIT_CHAIN_SOURCE = Symbol.for('sonde.audit.chainSource');

export function sqliteAuditStore(db: Database.Database): SyncAuditStore & { [AUDIT_CHAIN_SOURCE]: AuditChainSource } {
  const last = db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const page = db.prepare<[number, number], AuditRow>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?');

  const chainPage = db
    .prepare<[number, number, number], AuditChainRow>(
      `SELECT ${CHAIN_COLUMNS} FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`,
    )
    .raw();
  const lastLink = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const textSql = `SELECT seq, hash, ${CHAIN_TEXT} FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq`;
  const textRows = db.prepare<[number, number], [number, string, string | null]>(textSql).raw();
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM audit_log WHERE seq = ?');
  const chainSource: AuditChainSource = {
    file: db.memory || !db.name ? undefined : db.name,
    textSql,
    // driver.ts picks the package by Node version; a worker thread loads the same one by path.
    driverModule: () => DRIVER_MODULE_PATH,
    textRows: (from, to) => textRows.iterate(from, to),
    hashAt: (seq) => hashAt.get(seq)?.hash,
    lastSeq: () => lastLink.get()?.seq ?? 0,
  };

  const appendRow = (
    entry: AuditEntry,
    prev: { seq: number; hash: string } | undefined,
    chain: (entry: AuditEntry, prevHash: string, seq: number) => string,
  ): AuditRecord => {
    const seq = (prev?.seq ?? 0) + 1;
    const prevHash = prev?.hash ?? GENESIS_HASH;
    const row = auditRow(entry, seq, prevHash, chain(entry, prevHash, seq));
    insert.run(...auditRowValues(row));
    // The record as a read returns it, built from what was written (no second statement).
    return toAuditRecord(row);
  };
  const appendRows = (entries: AuditEntry[], chain: (entry: AuditEntry, prevHash: string, seq: number) => string): AuditRecord[] => {
    let prev = lastLink.get();
    return entries.map((entry) => {
      const record = appendRow(entry, prev, chain);
      prev = record;
      return record;
    });
  };
  const append = db.transaction(appendRows);

  return {
    [AUDIT_CHAIN_SOURCE]: chainSource,
    // IMMEDIATE: the CLI and the server may append at once; the write lock is taken before reading the last hash.
    // Inside the caller's transaction (the audit log writes the head with it), no nested savepoint.
    append: (entries, chain) => (db.inTransaction ? appendRows(entries, chain) : append.immediate(entries, chain)),
    last: () => {
      const row = last.get();
      return row && toAuditRecord(row);
    },
    query(filter: AuditFilter) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (filter.agent) {
        where.push('EXISTS (SELECT 1 FROM json_each(audit_log.agents) WHERE value = ?)');
        args.push(filter.agent);
      }
      if (filter.tool) {
        where.push('(tool = ? OR action = ?)');
        args.push(filter.tool, filter.tool);
      }
      if (filter.keyId) {
        where.push('actor_id = ?');
        args.push(filter.keyId);
      }
      if (filter.from) {
        where.push('at >= ?');
        args.push(filter.from);
      }
      if (filter.to) {
        where.push('at <= ?');
        args.push(filter.to);
      }
      if (filter.afterSeq !== undefined) {
        where.push('seq > ?');
        args.push(filter.afterSeq);
      }
      if (filter.beforeSeq !== undefined) {
        where.push('seq < ?');
        args.push(filter.beforeSeq);
      }
      const order = filter.order === 'desc' ? 'DESC' : 'ASC';
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`;
      return db
        .prepare<(string | number)[], AuditRow>(sql)
        .all(...args, filter.limit)
        .map(toAuditRecord);
    },
    page: (fromSeq, limit) => page.all(fromSeq, limit).map(toAuditRecord),
    chainPage: (fromSeq, toSeq, limit) => chainPage.all(fromSeq, toSeq, limit),
    count: () => (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n,
    pruneThrough: (throughSeq) => db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(throughSeq).changes,
  };
}
