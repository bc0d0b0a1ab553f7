import { GENESIS_HASH } from '../../audit/chain-text.js';
import type { AuditRecord } from '../../services.js';
import {
  AUDIT_COLUMN_COUNT,
  AUDIT_COLUMNS,
  auditRow,
  auditRowValues,
  CHAIN_COLUMNS,
  toAuditRecord,
  toChainRow,
  type AuditEntry,
  type AuditRow,
} from '../rows/index.js';
import type { AuditChainRow, AuditFilter, AuditStore } from '../types.js';
import { changesOf, decodeText, encodeText, rowsOf, type Queryable, type Scope } from './db.js';

/** The columns that hold text a client controls: stored through encodeText (NUL), read back through decodeText. */
const CLIENT_TEXT = ['action', 'actor_kind', 'actor_id', 'actor_name', 'client_id', 'tool', 'probe', 'status', 'detail'] as const;
/** A copy of a row about to be written, its client text escaped. */
function encoded(row: AuditRow): AuditRow {
  const out: Record<string, unknown> = { ...row };
  for (const column of CLIENT_TEXT) out[column] = encodeText(row[column]);
  return out as unknown as AuditRow;
}
/** A row as read (a fresh object from the driver, decoded in place: verify maps every row), its text as hashed. */
function decoded<R extends Partial<AuditRow>>(row: R): R {
  const text = row as Record<string, unknown>;
  for (const column of CLIENT_TEXT) if (typeof text[column] === 'string') text[column] = decodeText(text[column]);
  return row;
}

/** Rows per page while streaming: each page is one keyset query on the pool, so nothing is held between pages. */
export const PAGE_ROWS = 5_000;

/**
 * The audit log on PostgreSQL: one chain for every hub on the database. An append locks the head row
 * (`audit_head`, SELECT … FOR UPDATE) for the rest of its transaction, so hubs append in turns and each entry
 * gets the next seq once; the entries of one group commit go in one multi-row INSERT. Text a client controls is
 * stored through encodeText (NUL), JSON stays text (never jsonb), times stay the ISO text that was hashed.
 */
export function pgAuditStore(s: Scope, inTransaction: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>): AuditStore {
  const appendIn = async (db: Queryable, entries: AuditEntry[], chain: (entry: AuditEntry, prevHash: string, seq: number) => string) => {
    // A serializable transaction that starts with the append (the audit log's group commit) takes the head's table
    // lock before its first query, so its snapshot is taken once the hub before it has committed: its SELECT … FOR
    // UPDATE then finds the head as that hub left it, instead of failing with a serialization error (40001) and being
    // run again, which every commit waiting on another hub's did. EXCLUSIVE blocks only other writers of the head
    // (and FOR UPDATE), never a plain read. An append later in a caller's transaction keeps the row lock alone.
    if (s.tx?.statements === 0) await db.query('LOCK TABLE audit_head IN EXCLUSIVE MODE');
    const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
    let prev = rows[0] ?? { seq: 0, hash: GENESIS_HASH };
    const records: AuditRecord[] = [];
    const values: unknown[] = [];
    for (const entry of entries) {
      const seq = prev.seq + 1;
      const row = auditRow(entry, seq, prev.hash, chain(entry, prev.hash, seq));
      values.push(...auditRowValues(encoded(row)));
      records.push(toAuditRecord(row));
      prev = row;
    }
    // PostgreSQL takes at most 65,535 parameters in one statement.
    const perStatement = Math.floor(60_000 / AUDIT_COLUMN_COUNT);
    for (let start = 0; start < entries.length; start += perStatement) {
      const count = Math.min(perStatement, entries.length - start);
      const tuples = Array.from(
        { length: count },
        (_, i) => `(${Array.from({ length: AUDIT_COLUMN_COUNT }, (_, c) => `$${i * AUDIT_COLUMN_COUNT + c + 1}`).join(', ')})`,
      );
      await db.query(
        `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ${tuples.join(', ')}`,
        values.slice(start * AUDIT_COLUMN_COUNT, (start + count) * AUDIT_COLUMN_COUNT),
      );
    }
    await db.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [prev.seq, prev.hash]);
    return records;
  };

  /**
   * Rows `fromSeq..toSeq` by seq, a window of `PAGE_ROWS` seqs per query. A bounded window rather than `LIMIT`: with
   * stale statistics (a chain just restored or bulk-loaded, autovacuum off or not yet run) the planner takes
   * `seq >= $1 ORDER BY seq LIMIT n` for a few rows and answers it with a bitmap scan and a sort of every row after
   * `$1`, so a walk of the whole chain became quadratic (3.6 s a page half way through 1M rows). A window reads at most
   * its own rows whatever the plan. Where one comes back short (a gap, or the end), the next entry there is, if any,
   * is found by `min(seq)` on the primary key, so gaps are walked over exactly as before.
   */
  async function* pages<T>(columns: string, map: (row: AuditRow) => T, fromSeq: number, toSeq: number) {
    let from = fromSeq;
    while (from <= toSeq) {
      const end = Math.min(toSeq, from + PAGE_ROWS - 1);
      const rows = await rowsOf<AuditRow>(s, `SELECT ${columns} FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq`, [from, end]);
      // Mapped row by row as the walk asks, not a page at a time: a verify gives the event loop back between rows.
      for (const row of rows) yield map(row);
      if (rows.length === end - from + 1) {
        from = end + 1;
        continue;
      }
      const [after] = await rowsOf<{ next: number | null }>(s, 'SELECT min(seq) AS next FROM audit_log WHERE seq > $1 AND seq <= $2', [
        end,
        toSeq,
      ]);
      if (after?.next === null || after?.next === undefined) return;
      from = after.next;
    }
  }

  return {
    append: (entries, chain) => (s.tx ? appendIn(s.db, entries, chain) : inTransaction((db) => appendIn(db, entries, chain))),
    last: async () => {
      const [row] = await rowsOf<AuditRow>(s, 'SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
      return row && toAuditRecord(decoded(row));
    },
    async query(filter: AuditFilter) {
      const where: string[] = [];
      const args: unknown[] = [];
      const arg = (value: unknown): string => {
        args.push(value);
        return `$${args.length}`;
      };
      if (filter.agent) {
        // agents is canonical JSON text: an element is a JSON string between '[' or ',' and ',' or ']'.
        const token = arg(JSON.stringify(filter.agent));
        where.push(
          `(agents = '[' || ${token} || ']' OR strpos(agents, '[' || ${token} || ',') > 0 OR strpos(agents, ',' || ${token} || ',') > 0 OR strpos(agents, ',' || ${token} || ']') > 0)`,
        );
      }
      if (filter.tool) {
        const tool = arg(encodeText(filter.tool));
        where.push(`(tool = ${tool} OR action = ${tool})`);
      }
      if (filter.keyId) where.push(`actor_id = ${arg(encodeText(filter.keyId))}`);
      if (filter.from) where.push(`at >= ${arg(filter.from)}`);
      if (filter.to) where.push(`at <= ${arg(filter.to)}`);
      if (filter.afterSeq !== undefined) where.push(`seq > ${arg(filter.afterSeq)}`);
      if (filter.beforeSeq !== undefined) where.push(`seq < ${arg(filter.beforeSeq)}`);
      const order = filter.order === 'desc' ? 'DESC' : 'ASC';
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ${arg(filter.limit)}`;
      return (await rowsOf<AuditRow>(s, sql, args)).map((row) => toAuditRecord(decoded(row)));
    },
    iterate: (fromSeq) => pages<AuditRecord>('*', (row) => toAuditRecord(decoded(row)), fromSeq, Number.MAX_SAFE_INTEGER),
    chainRows: (fromSeq, toSeq = Number.MAX_SAFE_INTEGER) =>
      pages<AuditChainRow>(CHAIN_COLUMNS, (row) => toChainRow(decoded(row)), fromSeq, toSeq),
    count: async () => (await rowsOf<{ n: number }>(s, 'SELECT COUNT(*)::bigint AS n FROM audit_log'))[0].n,
    pruneThrough: (throughSeq) => changesOf(s, 'DELETE FROM audit_log WHERE seq <= $1', [throughSeq]),
  };
}
