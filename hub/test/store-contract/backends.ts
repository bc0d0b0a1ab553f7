import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Precondition } from '../../../test/support/preconditions.js';
import { precondition } from '../../../test/support/preconditions.js';
import { createTestDatabase, postgresReachable, type TestDatabase } from '../../src/store/testing.js';

/**
 * The store backends the contract suite runs against. Each hands out fresh,
 * empty databases as a location `openHubStore` takes, and removes them all in
 * `cleanup` (the calling file's afterAll).
 */
export interface ContractBackend {
  name: string;
  /** Whether this machine can run the backend (a test on one that cannot is skipped and the reason recorded). */
  available: Precondition;
  freshLocation(): Promise<string>;
  cleanup(): Promise<void>;
}

export function sqliteBackend(testFile: string): ContractBackend {
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-contract-'));
  let n = 0;
  return {
    name: 'sqlite',
    available: precondition(testFile, 'sqlite', true, ''),
    freshLocation: () => Promise.resolve(path.join(dir, `db-${++n}`, 'sonde.db')),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** The machine's PostgreSQL (CI starts it: .ci/services.sh); override with SONDE_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL = process.env.SONDE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh `sonde_test_<random>` database per location on the machine's PostgreSQL, all dropped in `cleanup`. */
export async function postgresBackend(testFile: string): Promise<ContractBackend> {
  const reachable = await postgresReachable(TEST_POSTGRES_URL);
  const created: TestDatabase[] = [];
  return {
    name: 'postgres',
    available: precondition(testFile, 'postgres', reachable.ok, reachable.reason),
    async freshLocation() {
      const database = await createTestDatabase(TEST_POSTGRES_URL);
      created.push(database);
      return database.url;
    },
    async cleanup() {
      for (const database of created.splice(0)) await database.drop();
    },
  };
}

export async function contractBackends(testFile: string): Promise<ContractBackend[]> {
  return [sqliteBackend(testFile), await postgresBackend(testFile)];
}
