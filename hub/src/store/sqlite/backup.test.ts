import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET } from '../../../test/helpers.js';
import { createAuditLog } from '../../audit/audit-log.js';
import { openCrypto } from '../../crypto/index.js';
import { openSqliteStore } from './index.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const entry = (i: number) => ({
  action: 'test.backup',
  actor: { kind: 'system' as const, id: null, name: null },
  status: 'ok' as const,
  detail: `${i}`,
});

async function hubDb() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const store = openSqliteStore(path.join(dir, 'sonde.db'));
  cleanups.push(() => store.close());
  const crypto = await openCrypto(TEST_SECRET, store);
  return { dir, store, crypto, audit: createAuditLog(store, crypto.auditKey, crypto.sealer) };
}

describe('HubStore.backup on SQLite (VACUUM INTO)', () => {
  it('waits for a running transaction and copies what it committed; the copy opens with the secret and verifies', async () => {
    const { dir, store, audit } = await hubDb();
    for (let i = 0; i < 50; i++) await audit.append(entry(i));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tx = store.transaction(async (t) => {
      await audit.append(entry(50), t);
      await held;
    });
    const file = path.join(dir, 'copy.db');
    let done = false;
    const backup = store.backup(file).then((info) => ((done = true), info));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    release();
    await tx;
    const info = await backup;
    expect(info).toEqual({ file, bytes: statSync(file).size, schemaVersion: store.schemaVersion });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const copy = openSqliteStore(file);
    cleanups.push(() => copy.close());
    const crypto = await openCrypto(TEST_SECRET, copy);
    const verified = await createAuditLog(copy, crypto.auditKey, crypto.sealer).verify({ full: true });
    expect(verified).toMatchObject({ ok: true, lastSeq: 51 });
  });

  it('is a single point in time while another connection keeps appending', async () => {
    const { dir, store, audit } = await hubDb();
    for (let i = 0; i < 2_000; i++) await audit.append(entry(i));
    // A second connection (the serving hub, while the CLI takes the backup) appends throughout.
    const writer = openSqliteStore(path.join(dir, 'sonde.db'));
    cleanups.push(() => writer.close());
    const writerCrypto = await openCrypto(TEST_SECRET, writer);
    const writerLog = createAuditLog(writer, writerCrypto.auditKey, writerCrypto.sealer);
    let stop = false;
    const appending = (async () => {
      for (let i = 0; !stop; i++) await writerLog.append(entry(i));
    })();
    const file = path.join(dir, 'copy.db');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.backup(file);
    stop = true;
    await appending;
    const copy = openSqliteStore(file);
    cleanups.push(() => copy.close());
    const crypto = await openCrypto(TEST_SECRET, copy);
    // The head (a setting) and the rows were copied from the same snapshot: the chain and its head agree.
    expect(await createAuditLog(copy, crypto.auditKey, crypto.sealer).verify({ full: true })).toMatchObject({ ok: true });
  });

  it('never overwrites a file, needs an existing folder, and is refused on a transaction handle', async () => {
    const { dir, store } = await hubDb();
    const existing = path.join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    await expect(store.backup(existing)).rejects.toThrow(/exists already/);
    await expect(store.backup(path.join(dir, 'no', 'such', 'folder.db'))).rejects.toThrow(/does not exist/);
    await expect(store.transaction((tx) => tx.backup(path.join(dir, 'tx.db')))).rejects.toThrow(/transaction handle cannot take a backup/);
  });
});
