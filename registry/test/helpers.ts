import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { newKeyFile, type KeyFile } from '../src/crypto/keys.js';
import type { TrustStoreInput, TrustedKey } from '../src/trust/schema.js';

export const FIXTURE_PACK = join(import.meta.dirname, 'fixtures', 'demo-pack');

const temps: string[] = [];
// afterAll, not afterEach: tests in a concurrent describe share this list.
afterAll(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sonde-registry-'));
  temps.push(dir);
  return dir;
}

/** A fresh copy of the fixture pack, so each test may tamper with its own. */
export async function copyFixture(): Promise<string> {
  const dir = join(await tempDir(), 'demo-pack');
  await cp(FIXTURE_PACK, dir, { recursive: true });
  return dir;
}

export function publisher(name = 'acme'): KeyFile {
  return newKeyFile({ publisher: name });
}

export function trusted(key: KeyFile, window: { notBefore?: string; notAfter?: string } = {}): TrustedKey {
  return { keyId: key.keyId, publicKey: key.publicKey, ...(key.publisher ? { publisher: key.publisher } : {}), ...window };
}

/** A store that trusts `key` for every pack. */
export function storeFor(key: KeyFile, extra: Partial<TrustStoreInput> = {}): TrustStoreInput {
  return {
    type: 'sonde-trust-store',
    keys: [trusted(key)],
    policy: { allow: [{ publisher: key.publisher ?? key.keyId }] },
    ...extra,
  };
}
