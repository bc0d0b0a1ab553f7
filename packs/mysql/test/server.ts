import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import pack from '../src/index.js';

const execFileAsync = promisify(execFile);

export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' } as const;

/** The test's own client, outside the pack, in database `test`. */
export async function sql(statement: string): Promise<string> {
  const { stdout } = await execFileAsync('mariadb', [
    '-h',
    MYSQL.host,
    '-P',
    String(MYSQL.port),
    '-u',
    MYSQL.user,
    '--batch',
    '--skip-column-names',
    'test',
    '-e',
    statement,
  ]);
  return stdout.trim();
}

/**
 * Waits until a statement of this test shows in the process list for `seconds` (a condition, not a fixed sleep),
 * and returns its thread id so the test can end it with KILL QUERY.
 */
export async function untilRunning(marker: string, seconds: number, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = await sql(
      `SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND ID <> CONNECTION_ID() AND TIME >= ${seconds} LIMIT 1`,
    );
    if (id) return id;
    if (Date.now() > deadline) throw new Error(`MariaDB never showed a statement with ${marker} running for ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** CI starts the servers; an unreachable server is a failure with a next step, never a skip. */
export async function requireMysql(): Promise<void> {
  try {
    await sql('SELECT 1');
  } catch (error) {
    throw new Error(
      `MariaDB is not reachable at ${MYSQL.host}:${MYSQL.port} as root with an empty password (database test). Start it with .ci/services.sh. Cause: ${String((error as Error).message).trim()}`,
    );
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export async function probe<T = Loose>(name: string, params: Record<string, unknown> = {}): Promise<T> {
  const outcome = await runProbe(pack, name, { ...MYSQL, ...params }, (signal) =>
    createHostContext({ permissions: pack.manifest.permissions, signal }),
  );
  return outcome.result as T;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
