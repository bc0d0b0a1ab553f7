import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { Database } from './driver.js';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { HubError } from '../../errors.js';
import { LATEST_VERSION, MIGRATIONS, openSqliteStore } from './index.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function dbFile(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return path.join(dir, 'nested', 'sonde.db');
}

const hour = 3_600_000;
const iso = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

describe('SQLite hub store', () => {
  it('migrates a new file in WAL mode with foreign keys and records the schema version', async () => {
    const file = dbFile();
    const store = openSqliteStore(file);
    expect(store.schemaVersion).toBe(LATEST_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const versions = store.db.prepare('SELECT version, name FROM schema_version ORDER BY version').all();
    expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    await store.close();
  });

  it('creates the database, its WAL and shared-memory files 0600 whatever the umask, and narrows a wider file', async () => {
    const file = dbFile();
    const previous = process.umask(0o000);
    try {
      const store = openSqliteStore(file);
      await store.settings.set('k', 'v');
      const modes = ['', '-wal', '-shm'].map((suffix) => statSync(file + suffix).mode & 0o777);
      expect(modes).toEqual([0o600, 0o600, 0o600]);
      await store.close();
      chmodSync(file, 0o644);
      const again = openSqliteStore(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      await again.close();
    } finally {
      process.umask(previous);
    }
  });

  it('keeps everything across a restart on the same file and does not re-run migrations', async () => {
    const file = dbFile();
    const first = openSqliteStore(file);
    await first.settings.set('k', 'v');
    await first.agents.create({
      id: 'a1',
      name: 'web-1',
      enrolledAt: iso(),
      certPem: 'pem',
      certSerial: '4a',
      certNotAfter: iso(hour),
      publicKeyPem: 'pub',
    });
    await first.users.upsert({
      id: 'u1',
      name: 'ann',
      email: null,
      role: 'admin',
      enabled: true,
      createdAt: iso(),
      subject: null,
      displayName: null,
      origin: 'admin',
      groups: [],
      lastLoginAt: null,
    });
    await first.close();
    const second = openSqliteStore(file);
    expect(await second.settings.get('k')).toBe('v');
    expect(await second.agents.getByName('web-1')).toMatchObject({ id: 'a1', certSerial: '4a', degradedReasons: [], packs: [] });
    expect((await second.users.getById('u1'))?.enabled).toBe(true);
    expect(second.db.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: MIGRATIONS.length });
    await second.close();
  });

  it('refuses a database written by a newer hub', async () => {
    const file = dbFile();
    await openSqliteStore(file).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'future', iso());
    raw.close();
    expect(() => openSqliteStore(file)).toThrow(HubError);
    try {
      openSqliteStore(file);
    } catch (error) {
      expect((error as HubError).code).toBe('SONDE_ERR_DB_TOO_NEW');
    }
  });

  it('consumes an enrollment token exactly once, even from two connections', async () => {
    const file = dbFile();
    const a = openSqliteStore(file);
    const b = openSqliteStore(file);
    await a.enrollmentTokens.create({
      id: 't1',
      hash: 'h1',
      prefix: 'abcdefgh',
      boundName: null,
      createdAt: iso(),
      expiresAt: iso(hour),
      usedAt: null,
      usedBy: null,
    });
    const results = [await a.enrollmentTokens.consume('h1', iso(), 'x'), await b.enrollmentTokens.consume('h1', iso(), 'y')];
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await a.enrollmentTokens.findByHash('h1'))?.usedBy).toBe('x');
    await a.close();
    await b.close();
  });

  it('never consumes an expired token', async () => {
    const store = openSqliteStore(dbFile());
    await store.enrollmentTokens.create({
      id: 't1',
      hash: 'h1',
      prefix: 'abcdefgh',
      boundName: null,
      createdAt: iso(-hour),
      expiresAt: iso(-1),
      usedAt: null,
      usedBy: null,
    });
    expect(await store.enrollmentTokens.consume('h1', iso(), 'x')).toBeUndefined();
    await store.close();
  });

  it('removal revokes the certificate serial and keeps the record', async () => {
    const store = openSqliteStore(dbFile());
    await store.agents.create({
      id: 'a1',
      name: 'web-1',
      enrolledAt: iso(),
      certPem: 'pem',
      certSerial: '4a',
      certNotAfter: iso(hour),
      publicKeyPem: 'pub',
    });
    await store.agents.remove('a1', iso());
    expect(await store.revokedCerts.isRevoked('4a')).toBe(true);
    expect(await store.agents.getByCertSerial('4a')).toBeUndefined();
    expect((await store.agents.getById('a1'))?.removedAt).not.toBeNull();
    await store.close();
  });

  it('keeps degraded reasons until an admin accepts the pending attestation', async () => {
    const store = openSqliteStore(dbFile());
    await store.agents.create({
      id: 'a1',
      name: 'web-1',
      enrolledAt: iso(),
      certPem: null,
      certSerial: null,
      certNotAfter: null,
      publicKeyPem: 'pub',
    });
    const attestation = {
      os: { platform: 'linux', release: '6', version: '1' },
      kernel: '6',
      arch: 'x64',
      nodeVersion: '20',
      agentVersion: '1',
      agentCodeSha256: 'a'.repeat(64),
      configSha256: 'b'.repeat(64),
      packs: [],
    };
    await store.agents.addDegradedReason('a1', 'attestation changed: kernel');
    await store.agents.addDegradedReason('a1', 'attestation changed: kernel');
    await store.agents.setPendingAttestation('a1', attestation);
    expect((await store.agents.getById('a1'))?.degradedReasons).toEqual(['attestation changed: kernel']);
    await store.agents.acceptAttestation('a1');
    expect(await store.agents.getById('a1')).toMatchObject({
      degradedReasons: [],
      attestationBaseline: attestation,
      pendingAttestation: null,
    });
    await store.close();
  });
});
