import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Precondition } from '../../../test/support/preconditions.js';
import { precondition } from '../../../test/support/preconditions.js';

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

export function contractBackends(testFile: string): ContractBackend[] {
  return [sqliteBackend(testFile)];
}
