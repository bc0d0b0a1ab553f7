import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { openSqliteStore } from './index.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function dbFile(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return path.join(dir, 'sonde.db');
}
const iso = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

describe('SQLite identity tables', () => {
  it('a sign-in state is taken once, even from two connections; the second sees when it was used', async () => {
    const file = dbFile();
    const a = openSqliteStore(file);
    const b = openSqliteStore(file);
    await a.loginStates.put({
      stateHash: 's1',
      bindingHash: 'b1',
      codeVerifier: 'v',
      nonce: 'n',
      createdAt: iso(),
      expiresAt: iso(600_000),
      usedAt: null,
    });
    const [first, second] = await Promise.all([a.loginStates.take('s1', iso()), b.loginStates.take('s1', iso())]);
    expect([first?.usedAt, second?.usedAt].filter((u) => u === null)).toHaveLength(1);
    expect([first?.usedAt, second?.usedAt].filter((u) => typeof u === 'string')).toHaveLength(1);
    expect(await a.loginStates.take('missing', iso())).toBeUndefined();
    expect(await a.loginStates.removeExpired(iso(600_001))).toBe(1);
    await a.close();
    await b.close();
  });

  it('finds users by subject and unclaimed users by e-mail, case-insensitively; a subject is unique', async () => {
    const store = openSqliteStore(dbFile());
    const base = {
      role: 'member' as const,
      enabled: true,
      createdAt: iso(),
      displayName: null,
      origin: 'admin' as const,
      groups: [],
      lastLoginAt: null,
    };
    await store.users.upsert({ ...base, id: 'u1', name: 'ada', email: 'ada@example.com', subject: null });
    expect((await store.users.getUnclaimedByEmail('ADA@example.com'))?.id).toBe('u1');
    await store.users.upsert({ ...base, id: 'u1', name: 'ada', email: 'ada@example.com', subject: 'https://idp#1', groups: ['g'] });
    expect(await store.users.getUnclaimedByEmail('ada@example.com')).toBeUndefined();
    expect(await store.users.getBySubject('https://idp#1')).toMatchObject({ id: 'u1', groups: ['g'] });
    await expect(store.users.upsert({ ...base, id: 'u2', name: 'eve', email: null, subject: 'https://idp#1' })).rejects.toThrow(/UNIQUE/);
    await store.close();
  });
});
