import type { QueryResult, QueryResultRow } from 'pg';

/** A pool or one client: where a store's statements run. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** What one open transaction collects for after its commit. */
export interface TxState {
  /** Agents written in it: their change-feed events wait for the commit. */
  agentIds: Set<string>;
  /** Last-seen times written in it (reported as a patch of the last known record, see AgentFeed.seen). */
  seen: Map<string, string>;
  /** Statements sent in it so far (an audit append that comes first takes the head's lock before its snapshot). */
  statements: number;
}

/**
 * Where a sub-store's statements go: the pool (each statement its own transaction), or the client of one
 * transaction (`tx` set).
 */
export interface Scope {
  db: Queryable;
  tx: TxState | undefined;
}

export const rowsOf = async <R extends QueryResultRow>(scope: Scope, sql: string, values: unknown[] = []): Promise<R[]> =>
  (await scope.db.query<R>(sql, values)).rows;

export const oneOf = async <R extends QueryResultRow>(scope: Scope, sql: string, values: unknown[] = []): Promise<R | undefined> =>
  (await scope.db.query<R>(sql, values)).rows[0];

export const changesOf = async (scope: Scope, sql: string, values: unknown[] = []): Promise<number> =>
  (await scope.db.query(sql, values)).rowCount ?? 0;

/**
 * PostgreSQL text cannot hold a NUL character, and audit columns hold what clients send (a tool name, an error
 * message): stored as is, a NUL would fail the append and with it the call. Such text is stored with U+FFFE as an
 * escape (NUL → U+FFFE "0", U+FFFE → U+FFFE U+FFFE) and decoded on read, so it comes back exactly as hashed.
 * Text without either character (all but hostile input) is stored unchanged.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL text cannot hold
const ESCAPED = /[\u0000\uFFFE]/;
// eslint-disable-next-line no-control-regex -- as above
const ESCAPES = /[\u0000\uFFFE]/g;
export function encodeText<T extends string | null | undefined>(text: T): T {
  if (typeof text !== 'string' || !ESCAPED.test(text)) return text;
  return text.replace(ESCAPES, (c) => (c === '\u0000' ? '\uFFFE0' : '\uFFFE\uFFFE')) as T;
}
export function decodeText<T extends string | null>(text: T): T {
  if (text === null || !text.includes('\uFFFE')) return text;
  return text.replace(/\uFFFE([0\uFFFE])/g, (_, c: string) => (c === '0' ? '\u0000' : '\uFFFE')) as T;
}
