import type Database from 'better-sqlite3';
import type { AuditEntryInput, AuditRecord } from '../../services.js';
import type { AuditFilter, AuditStore } from '../types.js';
import { parseJson } from './json.js';

/** The `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

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
  };
}

export function sqliteAuditStore(db: Database.Database): AuditStore {
  const last = db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, at, action, actor_kind, actor_id, actor_name, client_id, tool, agents, probe, params, status,
       result_bytes, duration_ms, detail, prev_hash, hash)
     VALUES (@seq, @at, @action, @actor_kind, @actor_id, @actor_name, @client_id, @tool, @agents, @probe, @params, @status,
       @result_bytes, @duration_ms, @detail, @prev_hash, @hash)`,
  );
  const from = db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq');

  const append = db.transaction(
    (entry: AuditEntryInput & { at: string }, chain: (prevHash: string, seq: number) => string): AuditRecord => {
      const prev = last.get();
      const seq = (prev?.seq ?? 0) + 1;
      const prevHash = prev?.hash ?? GENESIS_HASH;
      const hash = chain(prevHash, seq);
      insert.run({
        seq,
        at: entry.at,
        action: entry.action,
        actor_kind: entry.actor.kind,
        actor_id: entry.actor.id,
        actor_name: entry.actor.name,
        client_id: entry.clientId ?? null,
        tool: entry.tool ?? null,
        agents: JSON.stringify(entry.agents ?? []),
        probe: entry.probe ?? null,
        params: entry.params === undefined || entry.params === null ? null : JSON.stringify(entry.params),
        status: entry.status,
        result_bytes: entry.resultBytes ?? null,
        duration_ms: entry.durationMs ?? null,
        detail: entry.detail ?? null,
        prev_hash: prevHash,
        hash,
      });
      return toRecord(db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE seq = ?').get(seq)!);
    },
  );

  return {
    // IMMEDIATE: the CLI and the server may append at once; the write lock is taken before reading the last hash.
    append: (entry, chain) => append.immediate(entry, chain),
    last: () => {
      const row = last.get();
      return row && toRecord(row);
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
        .map(toRecord);
    },
    *iterate(fromSeq: number) {
      for (const row of from.iterate(fromSeq)) yield toRecord(row);
    },
    count: () => (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n,
  };
}
