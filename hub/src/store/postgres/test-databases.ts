import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Throw-away databases for tests (the store contract suite, real-hub tests): `sonde_test_<random>` on the server
 * of `adminUrl`, dropped by `drop`. Here so that no test needs the driver itself (scripts/check-boundaries.mjs).
 */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Whether a PostgreSQL server answers at `adminUrl`; the reason when not. */
export async function postgresReachable(adminUrl: string): Promise<{ ok: boolean; reason: string }> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true, reason: '' };
  } catch (error) {
    return { ok: false, reason: `no PostgreSQL at ${adminUrl.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `sonde_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        // WITH (FORCE) ends connections a test left open (a killed hub's pool, say).
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
