import { afterAll, describe, expect, it } from 'vitest';
import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';
import { openHubStore } from '../../src/store/open.js';
import { openStoreBackdoor } from '../../src/store/testing.js';
import type { AgentChange, AuditChainRow, HubStore } from '../../src/store/types.js';
import type { AuditEntryInput } from '../../src/services.js';
import { contractBackends } from './backends.js';
import { agentInput, apiKey, contractAuditLog, iso, packVersion, user } from './fixtures.js';

/**
 * Every method group of `HubStore`, written against the interface only and
 * run on each backend (backends.ts). Each test opens a fresh, empty database.
 */
const backends = await contractBackends(import.meta.url);
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

const hour = 3_600_000;
const attestation = (os: string): Attestation => ({ os, hostname: 'h', agentVersion: '1.0.0' }) as unknown as Attestation;

describe.each(backends)('store contract, methods: $name', (backend) => {
  const { holds, reason } = backend.available;
  const test = (name: string, fn: (store: HubStore, location: string) => Promise<void>) =>
    it.skipIf(!holds)(`${name} ${reason}`, async () => {
      const location = await backend.freshLocation();
      const store = await openHubStore(location);
      try {
        await fn(store, location);
      } finally {
        await store.close();
      }
    });

  test('settings: get, set, overwrite', async (store) => {
    expect(await store.settings.get('k')).toBeUndefined();
    await store.settings.set('k', 'v1');
    await store.settings.set('k', 'v2');
    expect(await store.settings.get('k')).toBe('v2');
  });

  test('agents: create, look up, update, remove, and the change feed', async (store) => {
    const changes: AgentChange[] = [];
    const stop = store.agents.watch((change) => changes.push(change));
    const created = await store.agents.create(agentInput('a1', 'web-1'));
    expect(created).toMatchObject({ id: 'a1', name: 'web-1', removedAt: null, degradedReasons: [], packs: [], lastSeenAt: null });
    await store.agents.create(agentInput('a0', 'db-1'));
    expect((await store.agents.list()).map((a) => a.name)).toEqual(['db-1', 'web-1']);
    expect((await store.agents.getByName('web-1'))?.id).toBe('a1');
    expect((await store.agents.getByCertSerial('serial-a1'))?.id).toBe('a1');
    await expect(store.agents.create(agentInput('a2', 'web-1'))).rejects.toThrow();

    await store.agents.markSeen('a1', '2026-01-01T00:00:00.000Z');
    await store.agents.markSeen('a1', '2026-01-01T00:00:01.000Z', '2.0.0');
    const packs = [{ name: 'system', version: '1.0.0', state: 'active' }] as unknown as PackStatus[];
    await store.agents.setPacks('a1', packs);
    await store.agents.setBaseline('a1', attestation('linux'));
    await store.agents.addDegradedReason('a1', 'attestation changed');
    await store.agents.addDegradedReason('a1', 'attestation changed');
    await store.agents.setPendingAttestation('a1', attestation('linux-2'));
    let a1 = (await store.agents.getById('a1'))!;
    expect(a1).toMatchObject({
      lastSeenAt: '2026-01-01T00:00:01.000Z',
      agentVersion: '2.0.0',
      packs,
      degradedReasons: ['attestation changed'],
    });
    expect(a1.attestationBaseline).toEqual(attestation('linux'));
    expect(a1.pendingAttestation).toEqual(attestation('linux-2'));
    await store.agents.acceptAttestation('a1');
    a1 = (await store.agents.getById('a1'))!;
    expect(a1).toMatchObject({ degradedReasons: [], pendingAttestation: null, attestationBaseline: attestation('linux-2') });
    await store.agents.addDegradedReason('a1', 'x');
    await store.agents.clearDegraded('a1');
    expect((await store.agents.getById('a1'))!.degradedReasons).toEqual([]);

    await store.agents.remove('a1', iso());
    a1 = (await store.agents.getById('a1'))!;
    expect(a1.removedAt).not.toBeNull();
    expect(a1.certSerial).toBeNull();
    expect(await store.agents.getByCertSerial('serial-a1')).toBeUndefined();
    expect(await store.revokedCerts.isRevoked('serial-a1')).toBe(true);
    await store.agents.replaceCredentials('a1', { certPem: 'p2', certSerial: 's2', certNotAfter: iso(hour), publicKeyPem: 'pub2' });
    a1 = (await store.agents.getById('a1'))!;
    expect(a1).toMatchObject({ removedAt: null, certSerial: 's2', publicKeyPem: 'pub2' });

    stop();
    const puts = changes.filter((c): c is Extract<AgentChange, { kind: 'put' }> => c.kind === 'put');
    expect(puts.map((c) => c.record.id)).toContain('a1');
    expect(puts.at(-1)?.record.certSerial).toBe('s2');
    const count = changes.length;
    await store.agents.markSeen('a0', iso(), '1.1.0');
    expect(changes).toHaveLength(count);
  });

  test('agents: writes in a transaction reach the change feed at commit, and a rollback leaves nothing', async (store) => {
    const changes: AgentChange[] = [];
    store.agents.watch((change) => changes.push(change));
    await store.transaction(async (tx) => {
      await tx.agents.create(agentInput('t1'));
      expect(changes.filter((c) => c.kind === 'put')).toHaveLength(0);
    });
    expect(changes.some((c) => c.kind === 'put' && c.record.id === 't1')).toBe(true);
    await expect(
      store.transaction(async (tx) => {
        await tx.agents.create(agentInput('t2'));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.agents.getById('t2')).toBeUndefined();
    expect(changes.some((c) => c.kind === 'put' && c.record.id === 't2')).toBe(false);
  });

  test('agents: another store on the database reaches the change feed; each own write is reported once', async (store, location) => {
    const changes: AgentChange[] = [];
    store.agents.watch((change) => changes.push(change));
    await store.agents.create(agentInput('o1', 'other-1'));
    const other = await openHubStore(location);
    try {
      await other.agents.setBaseline('o1', attestation('from-the-other-store'));
      // PostgreSQL reports the record (NOTIFY); SQLite sees another connection's commit on its next read (a resync).
      const reached = (): boolean =>
        changes.some((c) =>
          c.kind === 'put'
            ? c.record.id === 'o1' && JSON.stringify(c.record.attestationBaseline).includes('from-the-other-store')
            : !store.agents.feedCoversOtherWriters,
        );
      for (let i = 0; i < 200 && !reached(); i++) {
        await store.agents.getById('o1');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(reached()).toBe(true);
    } finally {
      await other.close();
    }
    // An own write is reported when it is made, and not a second time when the database notifies it.
    const before = changes.length;
    await store.agents.setPacks('o1', [{ name: 'system', version: '1.0.0', state: 'active' }] as unknown as PackStatus[]);
    await store.agents.markSeen('o1', iso(), '3.0.0');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = changes.slice(before).filter((c) => c.kind === 'put' && c.record.id === 'o1');
    expect(after).toHaveLength(2);
  });

  test('revoked certificates: add once, look up, list', async (store) => {
    await store.agents.create(agentInput('a1'));
    await store.revokedCerts.add('s1', 'a1', '2026-01-01T00:00:00.000Z', 'test');
    await store.revokedCerts.add('s1', 'a1', '2026-01-02T00:00:00.000Z', 'again');
    expect(await store.revokedCerts.isRevoked('s1')).toBe(true);
    expect(await store.revokedCerts.isRevoked('s2')).toBe(false);
    expect(await store.revokedCerts.list()).toEqual([
      { serial: 's1', agentId: 'a1', revokedAt: '2026-01-01T00:00:00.000Z', reason: 'test' },
    ]);
  });

  test('API keys: create, find, list, touch, rotate guarded by the old hash, revoke', async (store) => {
    await store.users.upsert(user('u1'));
    await store.agents.create(agentInput('a1'));
    await store.apiKeys.create(apiKey('k1'));
    await store.apiKeys.create(apiKey('k2', { ownerUserId: 'u1' }));
    await store.apiKeys.create(apiKey('k3', { type: 'agent', agentId: 'a1' }));
    expect(await store.apiKeys.getById('k1')).toEqual(apiKey('k1', { createdAt: (await store.apiKeys.getById('k1'))!.createdAt }));
    expect((await store.apiKeys.findByHash('hash-k2'))?.ownerUserId).toBe('u1');
    expect((await store.apiKeys.list()).map((k) => k.id).sort()).toEqual(['k1', 'k2', 'k3']);
    expect((await store.apiKeys.listByOwner('u1')).map((k) => k.id)).toEqual(['k2']);
    await store.apiKeys.touch('k1', '2026-01-01T00:00:00.000Z');
    expect((await store.apiKeys.getById('k1'))?.lastUsedAt).toBe('2026-01-01T00:00:00.000Z');

    expect(await store.apiKeys.rotate('k1', 'wrong-old-hash', 'new', 'sonde_new')).toBe(false);
    expect(await store.apiKeys.rotate('k1', 'hash-k1', 'new', 'sonde_new')).toBe(true);
    expect(await store.apiKeys.findByHash('hash-k1')).toBeUndefined();
    expect((await store.apiKeys.findByHash('new'))?.id).toBe('k1');
    expect(await store.apiKeys.rotate('k1', 'hash-k1', 'newer', 'sonde_nwr')).toBe(false);

    await store.apiKeys.revoke('k1', '2026-01-02T00:00:00.000Z');
    await store.apiKeys.revoke('k1', '2026-01-03T00:00:00.000Z');
    expect((await store.apiKeys.getById('k1'))?.revokedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(await store.apiKeys.rotate('k1', 'new', 'newest', 'sonde_nst')).toBe(false);
    await store.apiKeys.revokeForAgent('a1', iso());
    expect((await store.apiKeys.getById('k3'))?.revokedAt).not.toBeNull();
    // A user's own keys go with the user.
    await store.users.remove('u1');
    expect(await store.apiKeys.getById('k2')).toBeUndefined();
  });

  test('enrollment tokens: consume once, not after expiry, find, list, revoke', async (store) => {
    const token = (id: string, expiresAt = iso(hour)) => ({
      id,
      hash: `h-${id}`,
      prefix: 'sonde_et',
      boundName: id === 'b' ? 'web-1' : null,
      createdAt: iso(),
      expiresAt,
      usedAt: null,
      usedBy: null,
    });
    await store.enrollmentTokens.create(token('a'));
    await store.enrollmentTokens.create(token('b'));
    await store.enrollmentTokens.create(token('old', iso(-1000)));
    expect((await store.enrollmentTokens.list()).map((t) => t.id).sort()).toEqual(['a', 'b', 'old']);
    expect(await store.enrollmentTokens.consume('h-old', iso(), 'x')).toBeUndefined();
    const used = await store.enrollmentTokens.consume('h-a', iso(), 'web-2');
    expect(used).toMatchObject({ id: 'a', usedBy: 'web-2' });
    expect(await store.enrollmentTokens.consume('h-a', iso(), 'web-3')).toBeUndefined();
    expect((await store.enrollmentTokens.findByHash('h-b'))?.boundName).toBe('web-1');
    await store.enrollmentTokens.revoke('b');
    expect(await store.enrollmentTokens.findByHash('h-b')).toBeUndefined();
  });

  test('users: upsert, look up by id, name, subject and e-mail (any case), list, remove with their sessions', async (store) => {
    await store.users.upsert(user('u1', { email: 'Ann@Example.com', groups: ['g1'] }));
    await store.users.upsert(user('u2', { name: 'bob', subject: 'iss#bob', email: 'bob@example.com' }));
    await store.users.upsert(user('u1', { email: 'Ann@Example.com', role: 'admin', enabled: false, groups: ['g1', 'g2'] }));
    expect(await store.users.getById('u1')).toMatchObject({ role: 'admin', enabled: false, groups: ['g1', 'g2'] });
    expect((await store.users.getByName('bob'))?.id).toBe('u2');
    expect((await store.users.getBySubject('iss#bob'))?.id).toBe('u2');
    expect((await store.users.getByEmail('ann@example.COM'))?.id).toBe('u1');
    expect((await store.users.getUnclaimedByEmail('ann@example.com'))?.id).toBe('u1');
    expect(await store.users.getUnclaimedByEmail('bob@example.com')).toBeUndefined();
    expect((await store.users.list()).map((u) => u.name)).toEqual(['bob', 'user-u1']);
    await expect(store.users.upsert(user('u3', { name: 'bob' }))).rejects.toThrow();

    await store.sessions.create({ hash: 's1', userId: 'u1', createdAt: iso(), expiresAt: iso(hour) });
    await store.sessions.create({ hash: 's2', userId: 'u1', createdAt: iso(), expiresAt: iso(-1) });
    await store.sessions.create({ hash: 's3', userId: 'u2', createdAt: iso(), expiresAt: iso(hour) });
    const later = iso(2 * hour);
    await store.sessions.extend('s1', later);
    expect(await store.sessions.get('s1')).toMatchObject({ userId: 'u1', expiresAt: later });
    expect(await store.sessions.removeExpired(iso())).toBe(1);
    await store.sessions.remove('s3');
    expect(await store.sessions.get('s3')).toBeUndefined();
    await store.sessions.create({ hash: 's4', userId: 'u1', createdAt: iso(), expiresAt: iso(hour) });
    expect(await store.sessions.removeForUser('u1')).toBe(2);
    await store.sessions.create({ hash: 's5', userId: 'u2', createdAt: iso(), expiresAt: iso(hour) });
    await store.users.remove('u2');
    expect(await store.sessions.get('s5')).toBeUndefined();
  });

  test('authorized groups and login states (single use)', async (store) => {
    await store.authorizedGroups.upsert({ groupId: 'g1', displayName: 'Ops', defaultRole: 'member', createdAt: iso() });
    await store.authorizedGroups.upsert({ groupId: 'g1', displayName: 'Ops team', defaultRole: 'admin', createdAt: iso() });
    expect(await store.authorizedGroups.get('g1')).toMatchObject({ displayName: 'Ops team', defaultRole: 'admin' });
    expect(await store.authorizedGroups.list()).toHaveLength(1);
    expect(await store.authorizedGroups.remove('g1')).toBe(true);
    expect(await store.authorizedGroups.remove('g1')).toBe(false);

    const state = {
      stateHash: 'st',
      bindingHash: 'b',
      codeVerifier: 'v',
      nonce: 'n',
      createdAt: iso(),
      expiresAt: iso(600_000),
      usedAt: null,
    };
    await store.loginStates.put(state);
    await store.loginStates.put({ ...state, stateHash: 'old', expiresAt: iso(-1) });
    expect(await store.loginStates.take('st', iso())).toEqual(state);
    expect((await store.loginStates.take('st', iso()))?.usedAt).not.toBeNull();
    expect(await store.loginStates.take('missing', iso())).toBeUndefined();
    expect(await store.loginStates.removeExpired(iso())).toBe(1);
  });

  test('oauth records: put/replace keeps consumedAt, consume once, by uid, list, remove by grant/user/client, expiry', async (store) => {
    const record = (kind: string, id: string, extra: Partial<Parameters<HubStore['oauth']['put']>[0]> = {}) => ({
      kind,
      id,
      payload: JSON.stringify({ id }),
      grantId: null,
      userId: null,
      clientId: null,
      uid: null,
      expiresAt: iso(hour),
      ...extra,
    });
    await store.oauth.put(record('AuthorizationCode', 'c1', { grantId: 'g1', userId: 'u1', clientId: 'cl1' }));
    expect(await store.oauth.consume('AuthorizationCode', 'c1', iso())).toBe(true);
    expect(await store.oauth.consume('AuthorizationCode', 'c1', iso())).toBe(false);
    expect(await store.oauth.consume('AuthorizationCode', 'missing', iso())).toBe(false);
    await store.oauth.put(record('AuthorizationCode', 'c1', { grantId: 'g1', userId: 'u1', clientId: 'cl1', payload: '{"v":2}' }));
    expect(await store.oauth.get('AuthorizationCode', 'c1')).toMatchObject({ payload: '{"v":2}', consumedAt: expect.any(String) });
    // Same id, another kind: a separate record.
    expect(await store.oauth.get('AccessToken', 'c1')).toBeUndefined();
    await store.oauth.put(record('Session', 's1', { uid: 'uid-1', userId: 'u1' }));
    expect((await store.oauth.getByUid('Session', 'uid-1'))?.id).toBe('s1');
    await store.oauth.put(record('Grant', 'gr1', { userId: 'u1', clientId: 'cl1' }));
    await store.oauth.put(record('Grant', 'gr2', { userId: 'u2', clientId: 'cl1' }));
    await store.oauth.put(record('Grant', 'gr3', { userId: 'u1', clientId: 'cl2', expiresAt: iso(-1) }));
    expect((await store.oauth.list('Grant', { userId: 'u1' }, iso())).map((r) => r.id)).toEqual(['gr1']);
    expect((await store.oauth.list('Grant', { clientId: 'cl1' }, iso())).map((r) => r.id)).toEqual(['gr1', 'gr2']);
    expect(await store.oauth.list('Grant', { userId: 'u2', clientId: 'cl2' }, iso())).toEqual([]);
    await store.oauth.put(record('AccessToken', 't1', { grantId: 'g1' }));
    expect(await store.oauth.removeWhere({ grantId: 'g1' })).toBe(2);
    expect(await store.oauth.removeWhere({ userId: 'u2' })).toBe(1);
    expect(await store.oauth.removeWhere({ clientId: 'cl1' })).toBe(1);
    expect(await store.oauth.removeExpired(iso())).toBe(1);
    await store.oauth.remove('Session', 's1');
    expect(await store.oauth.getByUid('Session', 'uid-1')).toBeUndefined();
  });

  test('integrations: packs, versions, approval compare-and-set, instances', async (store) => {
    await store.integrations.ensurePack('prom', '@sonde/pack-prom');
    await store.integrations.ensurePack('prom', '@sonde/other');
    expect(await store.integrations.getPack('prom')).toMatchObject({ packageName: '@sonde/pack-prom', approvedVersion: null });
    const v1 = packVersion('prom', '1.0.0');
    await store.integrations.putVersion(v1);
    await store.integrations.putVersion(packVersion('prom', '1.1.0'));
    await store.integrations.putVersion({ ...v1, integrity: 'sha256-again' });
    expect(await store.integrations.getVersion('prom', '1.0.0')).toEqual({ ...v1, integrity: 'sha256-again' });
    expect((await store.integrations.listVersions('prom')).map((v) => v.version).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(await store.integrations.listVersions()).toHaveLength(2);

    const approval = { version: '1.0.0', digest: 'd', at: iso(), by: 'admin' };
    expect(await store.integrations.setApproved('prom', '0.9.0', approval)).toBe(false);
    expect(await store.integrations.setApproved('prom', null, approval)).toBe(true);
    expect(await store.integrations.setApproved('prom', null, { ...approval, version: '1.1.0' })).toBe(false);
    expect(await store.integrations.setApproved('prom', '1.0.0', { ...approval, version: '1.1.0' })).toBe(true);
    expect((await store.integrations.getPack('prom'))?.approvedVersion).toBe('1.1.0');
    await store.integrations.setVersionState('prom', '1.0.0', 'superseded');
    expect((await store.integrations.getVersion('prom', '1.0.0'))?.state).toBe('superseded');
    expect(await store.integrations.listPacks()).toHaveLength(1);

    const instance = {
      id: 'i1',
      name: 'prom-main',
      pack: 'prom',
      endpoint: 'http://127.0.0.1:9090',
      credentialsSealed: 'v1:sealed',
      status: 'untested' as const,
      lastError: null,
      lastCheckedAt: null,
      createdAt: iso(),
      updatedAt: iso(),
    };
    await store.integrations.createInstance(instance);
    expect(await store.integrations.getInstance('prom-main')).toEqual(instance);
    await store.integrations.updateInstance('i1', { status: 'error', lastError: 'refused', endpoint: 'http://127.0.0.1:9091' });
    expect(await store.integrations.getInstance('i1')).toMatchObject({
      status: 'error',
      lastError: 'refused',
      endpoint: 'http://127.0.0.1:9091',
    });
    expect(await store.integrations.listInstances('prom')).toHaveLength(1);
    expect(await store.integrations.listInstances('other')).toHaveLength(0);
    // The verified files of a version (several hubs load it from here): put replaces, removal of the version removes them.
    await store.integrations.putArchive('prom', '1.0.0', 'H4sI-first');
    await store.integrations.putArchive('prom', '1.0.0', 'H4sI-again');
    await store.integrations.putArchive('prom', '1.1.0', 'H4sI-other');
    expect(await store.integrations.getArchive('prom', '1.0.0')).toBe('H4sI-again');
    expect(await store.integrations.getArchive('prom', '2.0.0')).toBeUndefined();
    await store.integrations.removeVersion('prom', '1.0.0');
    expect(await store.integrations.getVersion('prom', '1.0.0')).toBeUndefined();
    expect(await store.integrations.getArchive('prom', '1.0.0')).toBeUndefined();
    await store.integrations.removeInstance('i1');
    expect(await store.integrations.listInstances()).toHaveLength(0);
    await store.integrations.createInstance(instance);
    await store.integrations.removePack('prom');
    expect(await store.integrations.getPack('prom')).toBeUndefined();
    expect(await store.integrations.getArchive('prom', '1.1.0')).toBeUndefined();
    expect(await store.integrations.listVersions()).toHaveLength(0);
    expect(await store.integrations.listInstances()).toHaveLength(0);
  });

  test('integration trust: one document for the deployment, its revision grows; each trust file remembers what was read', async (store) => {
    expect(await store.integrations.getTrust()).toBeUndefined();
    expect(await store.integrations.putTrust('{"type":"sonde-trust-store"}', iso(), 'hub-1')).toBe(1);
    const document = '{"type":"sonde-trust-store","keys":[{"keyId":"k\\u0000"}]} ✓';
    expect(await store.transaction((tx) => tx.integrations.putTrust(document, '2026-12-07T13:00:00.000Z', 'hub-2'))).toBe(2);
    expect(await store.integrations.getTrust()).toEqual({
      document,
      revision: 2,
      updatedAt: '2026-12-07T13:00:00.000Z',
      updatedBy: 'hub-2',
    });
    expect(await store.integrations.getTrustSource('host-a:/etc/sonde/trust.json')).toBeUndefined();
    await store.integrations.setTrustSource('host-a:/etc/sonde/trust.json', 'a'.repeat(64), iso());
    await store.integrations.setTrustSource('host-a:/etc/sonde/trust.json', 'b'.repeat(64), iso());
    await store.integrations.setTrustSource('host-b:/etc/sonde/trust.json', 'c'.repeat(64), iso());
    expect(await store.integrations.getTrustSource('host-a:/etc/sonde/trust.json')).toBe('b'.repeat(64));
    expect(await store.integrations.getTrustSource('host-b:/etc/sonde/trust.json')).toBe('c'.repeat(64));
  });

  test('OAuth records: put keeps consumedAt, consume once, look up by uid, list, remove by grant, user or client, expire', async (store) => {
    const record = (kind: string, id: string, fields: Partial<Parameters<HubStore['oauth']['put']>[0]> = {}) => ({
      kind,
      id,
      payload: `{"id":"${id}"}`,
      grantId: 'g1',
      userId: 'u1',
      clientId: 'c1',
      uid: null,
      expiresAt: iso(hour),
      ...fields,
    });
    await store.oauth.put(record('AuthorizationCode', 'code1'));
    expect(await store.oauth.consume('AuthorizationCode', 'code1', iso())).toBe(true);
    expect(await store.oauth.consume('AuthorizationCode', 'code1', iso())).toBe(false);
    expect(await store.oauth.consume('AuthorizationCode', 'missing', iso())).toBe(false);
    await store.oauth.put(record('AuthorizationCode', 'code1', { payload: '{"v":2}' }));
    expect(await store.oauth.get('AuthorizationCode', 'code1')).toMatchObject({
      payload: '{"v":2}',
      consumedAt: expect.any(String) as string,
    });
    await store.oauth.put(record('Session', 's1', { uid: 'uid-1', grantId: null }));
    expect((await store.oauth.getByUid('Session', 'uid-1'))?.id).toBe('s1');
    await store.oauth.put(record('AccessToken', 'a1'));
    await store.oauth.put(record('AccessToken', 'a2', { userId: 'u2', grantId: 'g2', clientId: 'c2' }));
    await store.oauth.put(record('AccessToken', 'old', { expiresAt: iso(-1000), grantId: 'g3' }));
    expect((await store.oauth.list('AccessToken', {}, iso())).map((r) => r.id)).toEqual(['a1', 'a2']);
    expect((await store.oauth.list('AccessToken', { userId: 'u2' }, iso())).map((r) => r.id)).toEqual(['a2']);
    expect((await store.oauth.list('AccessToken', { clientId: 'c1', userId: 'u1' }, iso())).map((r) => r.id)).toEqual(['a1']);
    expect(await store.oauth.removeWhere({ grantId: 'g2' })).toBe(1);
    expect(await store.oauth.removeExpired(iso())).toBe(1);
    expect(await store.oauth.removeWhere({ clientId: 'c1' })).toBe(3);
    await store.oauth.remove('Session', 's1');
    expect(await store.oauth.get('Session', 's1')).toBeUndefined();
  });

  test('transactions: commit, roll back, savepoints, and the outer store refused inside', async (store) => {
    await store.transaction(async (tx) => {
      await tx.settings.set('a', '1');
      await tx.transaction(async (inner) => inner.settings.set('b', '1'));
      await expect(
        tx.transaction(async (inner) => {
          await inner.settings.set('c', '1');
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await expect(store.settings.get('a')).rejects.toThrow(/transaction handle/);
    });
    expect([await store.settings.get('a'), await store.settings.get('b'), await store.settings.get('c')]).toEqual(['1', '1', undefined]);
    await expect(
      store.transaction(async (tx) => {
        await tx.settings.set('d', '1');
        throw new Error('outer');
      }),
    ).rejects.toThrow('outer');
    expect(await store.settings.get('d')).toBeUndefined();
    let escaped: HubStore | undefined;
    await store.transaction((tx) => {
      escaped = tx;
      return Promise.resolve();
    });
    await expect(escaped!.settings.get('a')).rejects.toThrow(/ended/);
  });

  const entry = (i: number, fields: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
    action: 'mcp.tool_call',
    actor: { kind: 'api_key', id: `key-${i % 2}`, name: 'claude' },
    clientId: 'c1',
    tool: i % 2 ? 'health_check' : 'probe',
    agents: [`web-${i % 3}`],
    probe: 'system.cpu',
    params: { b: i, a: 'x' },
    status: 'ok',
    resultBytes: 100 + i,
    durationMs: i + 0.25,
    detail: null,
    ...fields,
  });

  test('audit retention: pruneThrough deletes the archived prefix; verify starts from the base; appends go on', async (store) => {
    const log = contractAuditLog(store);
    for (let i = 1; i <= 12; i++) await log.append(entry(i));
    const archived: AuditChainRow[] = [];
    const archive = {
      open: () => Promise.resolve(),
      row: (row: AuditChainRow) => {
        archived.push(row);
        return Promise.resolve();
      },
      close: () => Promise.resolve({ file: 'memory', bytes: 0 }),
      abort: () => Promise.resolve(),
    };
    expect(await log.pruneThrough(8, archive)).toMatchObject({ fromSeq: 1, toSeq: 8, entries: 8 });
    expect(archived.map((row) => row[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await store.audit.count()).toBe(4);
    expect(await log.base()).toEqual({ seq: 8, hash: archived[7][15] });
    await log.append(entry(13));
    expect(await log.verify()).toMatchObject({ ok: true, fromSeq: 9, checked: 5, lastSeq: 13 });
    // The newest entry always stays.
    await expect(log.pruneThrough(13, archive)).rejects.toThrow(/newest and stays/);
  });

  test('audit: append in order, last, query filters and pages, iterate, chain rows, count', async (store) => {
    const log = contractAuditLog(store);
    for (let i = 1; i <= 30; i++) await log.append(entry(i));
    expect(await store.audit.count()).toBe(30);
    const last = await store.audit.last();
    expect(last).toMatchObject({
      seq: 30,
      tool: 'probe',
      agents: ['web-0'],
      params: { a: 'x', b: 30 },
      resultBytes: 130,
      durationMs: 30.25,
    });
    expect((await store.audit.query({ limit: 5 })).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.audit.query({ limit: 3, order: 'desc' })).map((r) => r.seq)).toEqual([30, 29, 28]);
    expect((await store.audit.query({ limit: 3, order: 'desc', beforeSeq: 10 })).map((r) => r.seq)).toEqual([9, 8, 7]);
    expect((await store.audit.query({ limit: 3, afterSeq: 25 })).map((r) => r.seq)).toEqual([26, 27, 28]);
    expect((await store.audit.query({ limit: 100, agent: 'web-1' })).every((r) => r.agents?.includes('web-1'))).toBe(true);
    expect(await store.audit.query({ limit: 100, agent: 'web-1' })).toHaveLength(10);
    expect(await store.audit.query({ limit: 100, tool: 'health_check' })).toHaveLength(15);
    expect(await store.audit.query({ limit: 100, tool: 'mcp.tool_call' })).toHaveLength(30);
    expect(await store.audit.query({ limit: 100, keyId: 'key-1' })).toHaveLength(15);
    const at10 = (await store.audit.query({ limit: 1, afterSeq: 9 }))[0].at;
    expect((await store.audit.query({ limit: 100, from: at10 })).every((r) => r.at >= at10)).toBe(true);
    expect((await store.audit.query({ limit: 100, to: at10 })).every((r) => r.at <= at10)).toBe(true);

    const seqs: number[] = [];
    for await (const record of store.audit.iterate(5)) seqs.push(record.seq);
    expect(seqs).toEqual(Array.from({ length: 26 }, (_, i) => i + 5));
    const rows: AuditChainRow[] = [];
    for await (const row of store.audit.chainRows(3, 4)) rows.push(row);
    expect(rows.map((row) => row[0])).toEqual([3, 4]);
    expect(rows[0]).toEqual([
      3,
      rows[0][1],
      'mcp.tool_call',
      'api_key',
      'key-1',
      'claude',
      'c1',
      'health_check',
      '["web-0"]',
      'system.cpu',
      '{"a":"x","b":3}',
      'ok',
      103,
      3.25,
      null,
      rows[0][15],
    ]);
    expect((await contractAuditLog(store).verify({ full: true })).ok).toBe(true);
  });

  test('audit: text a client controls round-trips exactly and the chain verifies (NUL, quotes, unicode, lone surrogates, big numbers)', async (store) => {
    const log = contractAuditLog(store);
    const hostile = [
      'nul\u0000byte',
      'quote"back\\slash',
      'emoji 🚀 é ü',
      'lone \ud800 surrogate',
      'ctl \u0001\u001f\u007f',
      '\uFFFE\uFFFF',
    ];
    for (const text of hostile) {
      const record = await log.append(
        entry(1, {
          tool: text,
          probe: text,
          detail: text,
          actor: { kind: 'api_key', id: text, name: text },
          clientId: text,
          agents: [text],
          params: { [text]: text, n: 2 ** 53 - 1, f: 1 / 3, neg: -0.5, big: 1e21 },
          durationMs: 1 / 3,
          resultBytes: 2 ** 40,
        }),
      );
      expect(record.seq).toBeGreaterThan(0);
    }
    const stored = await store.audit.query({ limit: 100, tool: hostile[0] });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ detail: hostile[0], probe: hostile[0], actor: { id: hostile[0] }, agents: [hostile[0]] });
    expect(await store.audit.query({ limit: 10, keyId: hostile[0] })).toHaveLength(1);
    expect(await store.audit.query({ limit: 10, agent: hostile[0] })).toHaveLength(1);
    const verified = await log.verify({ full: true });
    expect(verified).toMatchObject({ ok: true, checked: hostile.length });
  });

  test('audit: a large chain streams through chainRows in seq order and verifies', async (store) => {
    const log = contractAuditLog(store);
    const total = 2_500;
    for (let i = 0; i < total; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => log.append(entry(i + j))));
    let expected = 1;
    for await (const row of store.audit.chainRows(1)) expect(row[0]).toBe(expected++);
    expect(expected - 1).toBe(total);
    expect(await log.verify({ full: true })).toMatchObject({ ok: true, checked: total });
  });

  test('audit: chainRows and iterate walk several pages and over gaps, one row or longer than a page', async (store, location) => {
    const log = contractAuditLog(store);
    const total = 13_000;
    for (let i = 0; i < total; i += 1_000) await Promise.all(Array.from({ length: 1_000 }, (_, j) => log.append(entry(i + j))));
    const backdoor = await openStoreBackdoor(location);
    try {
      await backdoor.deleteAuditRows(100);
      await backdoor.deleteAuditRows(4_990, 11_020);
    } finally {
      await backdoor.close();
    }
    const kept = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((seq) => seq !== 100 && (seq < 4_990 || seq > 11_020));
    const chain = async (from: number, to?: number) => {
      const seqs: number[] = [];
      for await (const row of store.audit.chainRows(from, to)) seqs.push(row[0]);
      return seqs;
    };
    expect(await chain(1)).toEqual(kept(1, total));
    expect(await chain(4_000, 11_500)).toEqual(kept(4_000, 11_500));
    expect(await chain(5_000, 11_000)).toEqual([]);
    const records: number[] = [];
    for await (const record of store.audit.iterate(90)) records.push(record.seq);
    expect(records).toEqual(kept(90, total));
    expect(await log.verify({ full: true })).toMatchObject({ ok: false, firstBrokenSeq: 100 });
  });
});
