import path from 'node:path';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { Database } from './driver.js';
import { openSqliteStore } from './index.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A store on a real file, plus a second connection writing like the headless CLI does while the hub runs. */
function stores() {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = openSqliteStore(file);
  const other = new Database(file);
  cleanups.push(() => {
    other.close();
    store.close();
    cleanup();
  });
  return { store, other };
}

function enroll(store: ReturnType<typeof openSqliteStore>, id: string, name: string) {
  return store.agents.create({
    id,
    name,
    enrolledAt: new Date().toISOString(),
    certPem: null,
    certSerial: `serial-${id}`,
    certNotAfter: null,
    publicKeyPem: 'pem',
  });
}

const packs = (): PackStatus[] => [
  {
    name: 'demo',
    version: '1.0.0',
    state: 'active',
    manifest: { name: 'demo', version: '1.0.0', description: 'Demo pack.', probes: [], runbooks: [] } as unknown as PackStatus['manifest'],
  },
];

describe('agent store cache', () => {
  it('sees writes made through another connection (the CLI) at the next read', () => {
    const { store, other } = stores();
    enroll(store, 'a1', 'web-1');
    expect(store.agents.getByName('web-1')?.removedAt).toBeNull();
    other.prepare("UPDATE agents SET removed_at = '2026-01-01T00:00:00.000Z' WHERE id = 'a1'").run();
    expect(store.agents.getById('a1')?.removedAt).toBe('2026-01-01T00:00:00.000Z');
    other
      .prepare("INSERT INTO agents (id, name, enrolled_at, public_key_pem) VALUES ('a0', 'app-0', '2026-01-01T00:00:00.000Z', 'pem')")
      .run();
    expect(store.agents.list().map((a) => a.name)).toEqual(['app-0', 'web-1']);
  });

  it('moves its version on pack and record changes, not on last-seen times, and keeps list order by name', () => {
    const { store } = stores();
    enroll(store, 'b', 'zeta');
    enroll(store, 'a', 'alpha');
    const v0 = store.agents.version!();
    store.agents.markSeen('b', new Date().toISOString());
    expect(store.agents.version!()).toBe(v0);
    expect(store.agents.getById('b')?.lastSeenAt).not.toBeNull();
    store.agents.setPacks('b', packs());
    const v1 = store.agents.version!();
    expect(v1).toBeGreaterThan(v0);
    expect(store.agents.list().map((a) => [a.name, a.packs.length])).toEqual([
      ['alpha', 0],
      ['zeta', 1],
    ]);
  });

  it('shares one parsed manifest between agents running the same pack, in the caller objects too', () => {
    const { store } = stores();
    enroll(store, 'a', 'one');
    enroll(store, 'b', 'two');
    const first = packs();
    const second = packs();
    store.agents.setPacks('a', first);
    store.agents.setPacks('b', second);
    expect(second[0].manifest).toBe(first[0].manifest);
    expect(store.agents.getById('b')?.packs[0].manifest).toBe(store.agents.getById('a')?.packs[0].manifest);
    const changed = packs();
    (changed[0].manifest as { description: string }).description = 'Another build.';
    store.agents.setPacks('b', changed);
    expect(store.agents.getById('b')?.packs[0].manifest).not.toBe(first[0].manifest);
    expect(store.agents.getById('b')?.packs[0].manifest?.description).toBe('Another build.');
  });

  it('does not keep a write that its transaction rolled back', () => {
    const { store } = stores();
    enroll(store, 'a', 'one');
    expect(store.agents.getById('a')?.removedAt).toBeNull();
    expect(() =>
      store.transaction(() => {
        store.agents.remove('a', '2026-01-01T00:00:00.000Z');
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(store.agents.getById('a')?.removedAt).toBeNull();
  });

  it('keeps its cache through a transaction of last-seen times (the gateway writes a second of them at once)', () => {
    const { store, other } = stores();
    enroll(store, 'a', 'one');
    enroll(store, 'b', 'two');
    const cached = store.agents.getById('b')!;
    const v0 = store.agents.version!();
    store.transaction(() => {
      store.agents.markSeen('a', '2026-01-01T00:00:01.000Z');
      store.agents.markSeen('b', '2026-01-01T00:00:02.000Z');
    });
    // Written to the database (another connection reads it) and to the cache: nothing was re-read.
    expect(other.prepare('SELECT last_seen_at FROM agents ORDER BY id').pluck().all()).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
    ]);
    expect(store.agents.getById('b')).toEqual({ ...cached, lastSeenAt: '2026-01-01T00:00:02.000Z' });
    // A re-read record would hold a newly parsed packs array.
    expect(store.agents.getById('b')?.packs).toBe(cached.packs);
    expect(store.agents.version!()).toBe(v0);
    // Any other write in a transaction still drops the cache (it could roll back).
    store.transaction(() => {
      store.agents.markSeen('a', '2026-01-01T00:00:03.000Z');
      store.agents.remove('b', '2026-01-01T00:00:04.000Z');
    });
    expect(store.agents.getById('b')?.removedAt).toBe('2026-01-01T00:00:04.000Z');
    expect(store.agents.getById('a')?.lastSeenAt).toBe('2026-01-01T00:00:03.000Z');
  });
});
