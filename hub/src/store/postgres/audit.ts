import { canonicalParams } from '../../audit/chain-text.js';
import type { AuditEntryInput, AuditRecord } from '../../services.js';
import type { AuditChainRow, AuditFilter, AuditStore } from '../types.js';
import { decodeText, encodeText, parseJson, rowsOf, type Queryable, type Scope } from './db.js';

interface AuditRow {
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

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    hash: row.hash,
    action: decodeText(row.action),
    actor: { kind: decodeText<AuditRow['actor_kind']>(row.actor_kind), id: decodeText(row.actor_id), name: decodeText(row.actor_name) },
    clientId: decodeText(row.client_id),
    tool: decodeText(row.tool),
    agents: parseJson<string[]>(row.agents, []),
    probe: decodeText(row.probe),
    params: row.params === null ? null : parseJson<unknown>(row.params, null),
    status: decodeText<AuditRow['status']>(row.status),
    resultBytes: row.result_bytes ?? undefined,
    durationMs: row.duration_ms ?? undefined,
    detail: decodeText(row.detail),
  };
}

const CHAIN_COLUMNS =
  'seq, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status, result_bytes, duration_ms, detail, hash';

/** Columns of one chain row in `AuditChainRow` order, text decoded. */
function toChainRow(r: AuditRow): AuditChainRow {
  return [
    r.seq,
    r.at,
    decodeText(r.action),
    decodeText(r.actor_kind),
    decodeText(r.actor_id),
    decodeText(r.actor_name),
    decodeText(r.client_id),
    decodeText(r.tool),
    r.agents,
    decodeText(r.probe),
    r.params,
    decodeText(r.status),
    r.result_bytes,
    r.duration_ms,
    decodeText(r.detail),
    r.hash,
  ];
}

/** Rows per page while streaming: each page is one keyset query on the pool, so nothing is held between pages. */
export const PAGE_ROWS = 5_000;

type Entry = AuditEntryInput & { at: string };
const COLUMNS_PER_ROW = 17;

/**
 * The audit log on PostgreSQL: one chain for every hub on the database. An append locks the head row
 * (`audit_head`, SELECT … FOR UPDATE) for the rest of its transaction, so hubs append in turns and each entry
 * gets the next seq once; the entries of one group commit go in one multi-row INSERT. Text a client controls is
 * stored through encodeText (NUL), JSON stays text (never jsonb), times stay the ISO text that was hashed.
 */
export function pgAuditStore(s: Scope, inTransaction: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>): AuditStore {
  const appendIn = async (db: Queryable, entries: Entry[], chain: (entry: Entry, prevHash: string, seq: number) => string) => {
    const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
    let prev = rows[0] ?? { seq: 0, hash: '0'.repeat(64) };
    const records: AuditRecord[] = [];
    const values: unknown[] = [];
    for (const entry of entries) {
      const seq = prev.seq + 1;
      const hash = chain(entry, prev.hash, seq);
      const params = canonicalParams(entry.params);
      const agents = JSON.stringify(entry.agents ?? []);
      values.push(
        seq,
        entry.at,
        encodeText(entry.action),
        encodeText(entry.actor.kind),
        encodeText(entry.actor.id ?? null),
        encodeText(entry.actor.name ?? null),
        encodeText(entry.clientId ?? null),
        encodeText(entry.tool ?? null),
        agents,
        encodeText(entry.probe ?? null),
        params,
        encodeText(entry.status),
        entry.resultBytes ?? null,
        entry.durationMs ?? null,
        encodeText(entry.detail ?? null),
        prev.hash,
        hash,
      );
      records.push({
        seq,
        at: entry.at,
        hash,
        action: entry.action,
        actor: { kind: entry.actor.kind, id: entry.actor.id ?? null, name: entry.actor.name ?? null },
        clientId: entry.clientId ?? null,
        tool: entry.tool ?? null,
        agents: entry.agents ?? [],
        probe: entry.probe ?? null,
        params: params === null ? null : (JSON.parse(params) as unknown),
        status: entry.status,
        resultBytes: entry.resultBytes,
        durationMs: entry.durationMs,
        detail: entry.detail ?? null,
      });
      prev = { seq, hash };
    }
    // PostgreSQL takes at most 65,535 parameters in one statement.
    const perStatement = Math.floor(60_000 / COLUMNS_PER_ROW);
    for (let start = 0; start < entries.length; start += perStatement) {
      const count = Math.min(perStatement, entries.length - start);
      const tuples = Array.from(
        { length: count },
        (_, i) => `(${Array.from({ length: COLUMNS_PER_ROW }, (_, c) => `$${i * COLUMNS_PER_ROW + c + 1}`).join(', ')})`,
      );
      await db.query(
        `INSERT INTO audit_log (seq, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status,
           result_bytes, duration_ms, detail, prev_hash, hash) VALUES ${tuples.join(', ')}`,
        values.slice(start * COLUMNS_PER_ROW, (start + count) * COLUMNS_PER_ROW),
      );
    }
    await db.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [prev.seq, prev.hash]);
    return records;
  };

  async function* pages<T>(
    sql: string,
    bounds: (from: number) => unknown[],
    seqOf: (row: T) => number,
    map: (row: AuditRow) => T,
    fromSeq: number,
  ) {
    let from = fromSeq;
    for (;;) {
      const rows = (await rowsOf<AuditRow>(s, sql, bounds(from))).map(map);
      yield* rows;
      if (rows.length < PAGE_ROWS) return;
      from = seqOf(rows[rows.length - 1]) + 1;
    }
  }

  return {
    append: (entries, chain) => (s.tx ? appendIn(s.db, entries, chain) : inTransaction((db) => appendIn(db, entries, chain))),
    last: async () => {
      const [row] = await rowsOf<AuditRow>(s, 'SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
      return row && toRecord(row);
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
      return (await rowsOf<AuditRow>(s, sql, args)).map(toRecord);
    },
    iterate: (fromSeq) =>
      pages<AuditRecord>(
        'SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2',
        (from) => [from, PAGE_ROWS],
        (record) => record.seq,
        toRecord,
        fromSeq,
      ),
    chainRows: (fromSeq, toSeq = Number.MAX_SAFE_INTEGER) =>
      pages<AuditChainRow>(
        `SELECT ${CHAIN_COLUMNS} FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        (from) => [from, toSeq, PAGE_ROWS],
        (row) => row[0],
        toChainRow,
        fromSeq,
      ),
    count: async () => (await rowsOf<{ n: number }>(s, 'SELECT COUNT(*)::bigint AS n FROM audit_log'))[0].n,
  };
}
