export type MysqlFailureReason =
  'connection-refused' | 'unknown-host' | 'auth-failed' | 'permission-denied' | 'syntax' | 'connection-lost' | 'error';

export interface MysqlFailure {
  reason: MysqlFailureReason;
  errno: number | null;
  message: string;
}

/** Client (2xxx) and server (1xxx) error numbers that need a distinct next step. */
const BY_ERRNO: Record<number, [MysqlFailureReason, string]> = {
  2002: ['connection-refused', 'cannot connect (is the server running and listening there?)'],
  2003: ['connection-refused', 'cannot connect (is the server running and listening there?)'],
  2005: ['unknown-host', 'host name does not resolve'],
  2013: ['connection-lost', 'lost the connection during the query'],
  1045: ['auth-failed', 'authentication failed'],
  1698: ['auth-failed', 'authentication failed'],
  1227: ['permission-denied', 'missing privilege (grant PROCESS, REPLICATION CLIENT / BINLOG MONITOR)'],
  1142: ['permission-denied', 'missing privilege'],
  1064: ['syntax', 'the server does not know this statement'],
};

/** Reads `ERROR 1045 (28000): Access denied …` from the client's stderr. */
export function classifyMysqlError(stderr: string): MysqlFailure {
  const line = stderr.split('\n').find((l) => /^ERROR \d+/.test(l)) ?? stderr.trim().split('\n')[0] ?? '';
  const match = /^ERROR (\d+)(?: \(([0-9A-Z]{5})\))?(?: at line \d+)?: (.*)$/.exec(line);
  if (!match) return { reason: 'error', errno: null, message: line.slice(0, 200) || 'the client failed without a message' };
  const errno = Number(match[1]);
  const detail = match[3].slice(0, 200);
  const known = BY_ERRNO[errno];
  return known ? { reason: known[0], errno, message: `${known[1]}: ${detail}` } : { reason: 'error', errno, message: detail };
}
