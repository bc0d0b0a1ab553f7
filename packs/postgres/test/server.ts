import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import pack from '../src/index.js';

const execFileAsync = promisify(execFile);

export const PG = { host: '127.0.0.1', port: 5432, database: 'test' } as const;

/** Runs SQL as the test's own client (not through the pack) against database `test`. */
export async function psql(sql: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileAsync(
    'psql',
    ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', PG.host, '-p', String(PG.port), '-d', PG.database, '-c', sql],
    {
      env: { ...process.env, ...env },
    },
  );
  return stdout.trim();
}

/** Starts a client session that runs `sql` in the background; resolves when it ends. */
export function background(sql: string[], env: Record<string, string> = {}): Promise<unknown> {
  const args = ['-X', '-w', '-q', '-h', PG.host, '-p', String(PG.port), '-d', PG.database, ...sql.flatMap((s) => ['-c', s])];
  return execFileAsync('psql', args, { env: { ...process.env, ...env } }).catch((error: unknown) => error);
}

/** CI starts the servers; an unreachable server is a failure with a next step, never a skip. */
export async function requirePostgres(): Promise<void> {
  try {
    await psql('select 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG.host}:${PG.port} (database ${PG.database}, trust auth). Start it with .ci/services.sh. Cause: ${String((error as Error).message).trim()}`,
    );
  }
}

/** Runs a probe exactly as a host would: real execFile, declared permissions enforced. */
/** Probe results in tests are checked field by field, so a loose type keeps assertions short. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export async function probe<T = Loose>(name: string, params: Record<string, unknown> = {}): Promise<T> {
  const outcome = await runProbe(pack, name, { ...PG, ...params }, (signal) =>
    createHostContext({ permissions: pack.manifest.permissions, signal }),
  );
  return outcome.result as T;
}

/** Polls `sql` (as the test's client) until it returns `t`: waits for a condition the server can show, not a fixed time. */
export async function untilTrue(sql: string, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await psql(sql)) !== 't') {
    if (Date.now() > deadline) throw new Error(`PostgreSQL never showed ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
