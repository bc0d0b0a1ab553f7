export type RedisFailureReason = 'connection-refused' | 'auth-failed' | 'permission-denied' | 'loading' | 'error';

export interface RedisFailure {
  reason: RedisFailureReason;
  message: string;
}

const RULES: Array<[RegExp, RedisFailureReason, string]> = [
  [/Connection refused/i, 'connection-refused', 'connection refused (is the server running and listening there?)'],
  [/AUTH failed|WRONGPASS|NOAUTH|invalid username-password/i, 'auth-failed', 'authentication failed'],
  [/NOPERM/, 'permission-denied', 'the ACL user may not run this command'],
  [/LOADING/, 'loading', 'the server is loading its dataset'],
];

/**
 * redis-cli prints an error reply on stdout and exits 0: as `error:"…"` under
 * --json, as `(error) …` in display mode, and as the bare text (`NOPERM …`)
 * for INFO, which it always prints raw. No successful reply this pack asks
 * for starts with an upper-case word and a space (INFO starts with `# `,
 * CLIENT LIST with `id=`, the rest is JSON), so that form is safe to read as
 * an error.
 */
export function errorReply(stdout: string): string | undefined {
  const line = stdout.trim();
  if (/^[A-Z][A-Z_]{2,} \S[^\n]*$/.test(line)) return line;
  const json = /^error:(".*")$/s.exec(line);
  if (json) {
    try {
      return String(JSON.parse(json[1]));
    } catch {
      return json[1];
    }
  }
  const plain = /^\(error\) (.*)$/s.exec(line);
  return plain ? plain[1] : undefined;
}

/** Decides whether a redis-cli run failed, from its exit code, stderr and an error reply on stdout. */
export function classifyRedisFailure(stdout: string, stderr: string, exitCode: number): RedisFailure | undefined {
  const reply = errorReply(stdout);
  const authWarning = /AUTH failed/i.test(stderr);
  if (exitCode === 0 && reply === undefined && !authWarning) return undefined;
  const text = [reply, stderr.trim()].filter(Boolean).join(' ');
  const detail = (reply ?? stderr.trim().split('\n')[0] ?? '').slice(0, 200);
  for (const [pattern, reason, summary] of RULES) {
    if (pattern.test(text)) return { reason, message: detail ? `${summary}: ${detail}` : summary };
  }
  return { reason: 'error', message: detail || `redis-cli exited with ${exitCode}` };
}
