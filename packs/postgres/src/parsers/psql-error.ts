export type PsqlFailureReason =
  | 'connection-refused'
  | 'unknown-host'
  | 'auth-failed'
  | 'unknown-database'
  | 'permission-denied'
  | 'missing-relation'
  | 'timeout'
  | 'error';

export interface PsqlFailure {
  reason: PsqlFailureReason;
  /** One line for a person: what failed and what to check. */
  message: string;
}

const RULES: Array<[RegExp, PsqlFailureReason, string]> = [
  [/Connection refused/i, 'connection-refused', 'connection refused (is the server running and listening there?)'],
  [/\.s\.PGSQL\.\d+" failed: No such file or directory/, 'connection-refused', 'no server socket (is the server running on that port?)'],
  [/could not translate host name|Name or service not known/i, 'unknown-host', 'host name does not resolve'],
  [
    /password authentication failed|no password supplied|role "[^"]*" does not exist|no pg_hba\.conf entry|Peer authentication failed/i,
    'auth-failed',
    'authentication failed',
  ],
  [/database "[^"]*" does not exist/i, 'unknown-database', 'database does not exist'],
  [/permission denied/i, 'permission-denied', 'permission denied (grant the role pg_monitor)'],
  [/relation "[^"]*" does not exist/i, 'missing-relation', 'a relation the query needs does not exist'],
  [/timeout expired/i, 'timeout', 'connection timed out'],
];

/** The most telling line of psql's stderr: the FATAL/ERROR text, without the connection preamble. */
function detailLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const fatal = lines.find((line) => /^(?:psql: error: .*)?(?:FATAL|ERROR):/.test(line) || /(?:FATAL|ERROR):\s/.test(line));
  const line = fatal ?? lines[0] ?? '';
  const match = /(?:FATAL|ERROR):\s+(.*)$/.exec(line);
  return (match ? match[1] : line.replace(/^psql: error: /, '')).slice(0, 200);
}

/** Turns psql's stderr into a stable reason and a short message. */
export function classifyPsqlError(stderr: string): PsqlFailure {
  const detail = detailLine(stderr);
  for (const [pattern, reason, summary] of RULES) {
    if (pattern.test(stderr)) return { reason, message: detail ? `${summary}: ${detail}` : summary };
  }
  return { reason: 'error', message: detail || 'psql failed without a message' };
}
