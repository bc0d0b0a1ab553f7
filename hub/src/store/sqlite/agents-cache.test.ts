import path from 'node:path';
import type { PackStatus } from '@sonde/pack-sdk/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { Database } from './driver.js';
import { AgentDirectory } from '../../fleet/directory.js';
import { openSqliteStore } from './index.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A store on a real file, plus a second connection writing like the headless CLI does while the hub runs. */
function stores() {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'sonde.db');
  const store = openSqliteStore(file);
  const other = new Database(file);
  cleanups.push(async () => {
    other.close();
    await store.close();
    cleanup();
  });
  return { store, other };
}

async function enroll(store: ReturnType<typeof openSqliteStore>, id: string, name: string) {
  return await store.agents.create({
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
  it('sees writes made through another connection (the CLI) at the next read', async () => {
    const { store, other } = stores();
    await enroll(store, 'a1', 'web-1');
    expect((await store.agents.getByName('web-1'))?.removedAt).toBeNull();
    other.prepare("UPDATE agents SET removed_at = '2026-01-01T00:00:00.000Z' WHERE id = 'a1'").run();
    expect((await store.agents.getById('a1'))?.removedAt).toBe('2026-01-01T00:00:00.000Z');
    other
      .prepare("INSERT INTO agents (id, name, enrolled_at, public_key_pem) VALUES ('a0', 'app-0', '2026-01-01T00:00:00.000Z', 'pem')")
      .run();
    expect((await store.agents.list()).map((a) => a.name)).toEqual(['app-0', 'web-1']);
  });

  it('moves its version on pack and record changes, not on last-seen times, and keeps list order by name', async () => {
    const { store } = stores();
    await enroll(store, 'b', 'zeta');
    await enroll(store, 'a', 'alpha');
    const directory = await AgentDirectory.open(store);
    const v0 = directory.version();
    await store.agents.markSeen('b', new Date().toISOString());
    expect(directory.version()).toBe(v0);
    expect((await store.agents.getById('b'))?.lastSeenAt).not.toBeNull();
    await store.agents.setPacks('b', packs());
    const v1 = directory.version();
    expect(v1).toBeGreaterThan(v0);
    expect((await store.agents.list()).map((a) => [a.name, a.packs.length])).toEqual([
      ['alpha', 0],
      ['zeta', 1],
    ]);
  });

  it('shares one parsed manifest between agents running the same pack, in the caller objects too', async () => {
    const { store } = stores();
    await enroll(store, 'a', 'one');
    await enroll(store, 'b', 'two');
    const first = packs();
    const second = packs();
    await store.agents.setPacks('a', first);
    await store.agents.setPacks('b', second);
    expect(second[0].manifest).toBe(first[0].manifest);
    expect((await store.agents.getById('b'))?.packs[0].manifest).toBe((await store.agents.getById('a'))?.packs[0].manifest);
    const changed = packs();
    (changed[0].manifest as { description: string }).description = 'Another build.';
    await store.agents.setPacks('b', changed);
    expect((await store.agents.getById('b'))?.packs[0].manifest).not.toBe(first[0].manifest);
    expect((await store.agents.getById('b'))?.packs[0].manifest?.description).toBe('Another build.');
  });

  it('does not keep a write that its transaction rolled back', async () => {
    const { store } = stores();
    await enroll(store, 'a', 'one');
    expect((await store.agents.getById('a'))?.removedAt).toBeNull();
    await expect(
      store.transaction(async (tx) => {
        await tx.agents.remove('a', '2026-01-01T00:00:00.000Z');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await store.agents.getById('a'))?.removedAt).toBeNull();
  });

  it('keeps its cache through a transaction of last-seen times (the gateway writes a second of them at once)', async () => {
    const { store, other } = stores();
    await enroll(store, 'a', 'one');
    await enroll(store, 'b', 'two');
    const cached = (await store.agents.getById('b'))!;
    const directory = await AgentDirectory.open(store);
    const v0 = directory.version();
    await store.transaction(async (tx) => {
      await tx.agents.markSeen('a', '2026-01-01T00:00:01.000Z');
      await tx.agents.markSeen('b', '2026-01-01T00:00:02.000Z');
    });
    // Written to the database (another connection reads it) and to the cache: nothing was re-read.
    expect(other.prepare('SELECT last_seen_at FROM agents ORDER BY id').pluck().all()).toEqual([
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
    ]);
    expect(await store.agents.getById('b')).toEqual({ ...cached, lastSeenAt: '2026-01-01T00:00:02.000Z' });
    // A re-read record would hold a newly parsed packs array.
    expect((await store.agents.getById('b'))?.packs).toBe(cached.packs);
    // The fleet directory got the committed last-seen times without counting them as changes.
    expect(directory.version()).toBe(v0);
    expect(directory.getById('b')?.lastSeenAt).toBe('2026-01-01T00:00:02.000Z');
    // Any other write in a transaction still drops the cache (it could roll back).
    await store.transaction(async (tx) => {
      await tx.agents.markSeen('a', '2026-01-01T00:00:03.000Z');
      await tx.agents.remove('b', '2026-01-01T00:00:04.000Z');
    });
    expect(directory.getById('b')?.removedAt).toBe('2026-01-01T00:00:04.000Z');
    expect(directory.version()).toBeGreaterThan(v0);
    expect((await store.agents.getById('b'))?.removedAt).toBe('2026-01-01T00:00:04.000Z');
    expect((await store.agents.getById('a'))?.lastSeenAt).toBe('2026-01-01T00:00:03.000Z');
  });
});
