import { EnrollResponseSchema } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreBackdoor } from '../src/store/testing.js';
import { makeCsr, startTestHub, type TestHub } from './helpers.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, key?: string) =>
  hub.app.inject({ method, url, headers: hub.auth(key), ...(payload === undefined ? {} : { payload: payload as object }) });

async function enrollAgent(name: string) {
  const token = (await inject('POST', '/api/v1/enrollment-tokens', {})).json<{ token: string }>().token;
  const res = await hub.app.inject({
    method: 'POST',
    url: '/api/v1/enroll',
    headers: { authorization: `Bearer ${token}` },
    payload: { name, csrPem: makeCsr(name), agentVersion: '0.1.0' },
  });
  return EnrollResponseSchema.parse(res.json());
}

describe('REST authentication and roles', () => {
  const adminRoutes: [string, string][] = [
    ['GET', '/api/v1/agents'],
    ['GET', '/api/v1/api-keys'],
    ['GET', '/api/v1/enrollment-tokens'],
    ['GET', '/api/v1/users'],
    ['GET', '/api/v1/audit'],
    ['GET', '/api/v1/audit/verify'],
    ['POST', '/api/v1/audit/verify'],
    ['GET', '/api/v1/audit/verify/00000000-0000-0000-0000-000000000000'],
    ['POST', '/api/v1/probes'],
    ['POST', '/api/v1/api-keys'],
  ];
  it.each(adminRoutes)('%s %s: 401 without credentials, 403 for a member key', async (method, url) => {
    const anonymous = await hub.app.inject({ method: method as 'GET', url });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('SONDE_ERR_UNAUTHORIZED');
    const member = await hub.app.inject({ method: method as 'GET', url, headers: hub.auth(hub.memberKey) });
    expect(member.statusCode).toBe(403);
    expect(member.json().error.code).toBe('SONDE_ERR_FORBIDDEN');
  });

  it('refuses an unknown key and a malformed Authorization header', async () => {
    expect((await inject('GET', '/api/v1/agents', undefined, 'sonde_nope')).statusCode).toBe(401);
    const malformed = await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { authorization: 'Basic abc' } });
    expect(malformed.statusCode).toBe(401);
  });

  it('answers unknown routes with the one error shape', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/api/v1/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'SONDE_ERR_NOT_FOUND', message: expect.any(String) } });
  });

  it('refuses bad JSON and oversized bodies with coded errors', async () => {
    const bad = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...hub.auth(), 'content-type': 'application/json' },
      payload: '{nope',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toMatch(/^SONDE_ERR_/);
    const big = await inject('POST', '/api/v1/api-keys', { name: 'x'.repeat(300_000), role: 'member' });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('SONDE_ERR_PAYLOAD_TOO_LARGE');
  });
});

describe('API keys', () => {
  it('creates (value shown once), lists without values, rotates (old dead at once) and revokes', async () => {
    const created = await inject('POST', '/api/v1/api-keys', {
      name: 'ci',
      role: 'member',
      policy: { allowedAgents: ['prod-*'], allowedProbes: ['system.*'] },
    });
    expect(created.statusCode).toBe(201);
    const { key, rawKey } = created.json<{ key: { id: string; prefix: string }; rawKey: string }>();
    expect(rawKey.startsWith(key.prefix)).toBe(true);
    const list = await inject('GET', '/api/v1/api-keys');
    expect(list.body).not.toContain(rawKey);
    expect(list.body).not.toMatch(/"hash"/);
    expect(await hub.app.sonde.authenticateApiKey(rawKey)).toMatchObject({
      role: 'member',
      policy: { allowedAgents: ['prod-*'], allowedProbes: ['system.*'], allowedClients: [] },
    });

    const rotated = (await inject('POST', `/api/v1/api-keys/${key.id}/rotate`)).json<{ rawKey: string }>();
    expect(await hub.app.sonde.authenticateApiKey(rawKey)).toBeUndefined();
    expect((await hub.app.sonde.authenticateApiKey(rotated.rawKey))?.id).toBe(key.id);

    const revoked = await inject('DELETE', `/api/v1/api-keys/${key.id}`);
    expect(revoked.json().revokedAt).toEqual(expect.any(String));
    expect(await hub.app.sonde.authenticateApiKey(rotated.rawKey)).toBeUndefined();
    expect((await inject('POST', `/api/v1/api-keys/${key.id}/rotate`)).statusCode).toBe(409);
  });

  it('refuses policy patterns that are not plain globs', async () => {
    const res = await inject('POST', '/api/v1/api-keys', { name: 'bad', role: 'member', policy: { allowedAgents: ['(a|b)'] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('SONDE_ERR_VALIDATION');
  });

  it('records last use', async () => {
    const { key, rawKey } = (await inject('POST', '/api/v1/api-keys', { name: 'used', role: 'admin' })).json<{
      key: { id: string };
      rawKey: string;
    }>();
    await inject('GET', '/api/v1/agents', undefined, rawKey);
    const listed = (await inject('GET', '/api/v1/api-keys')).json<{ id: string; lastUsedAt: string | null }[]>();
    expect(listed.find((k) => k.id === key.id)?.lastUsedAt).toEqual(expect.any(String));
  });

  it('a 404 for an unknown key', async () => {
    const res = await inject('DELETE', '/api/v1/api-keys/does-not-exist');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('SONDE_ERR_KEY_NOT_FOUND');
  });
});

describe('enrollment tokens', () => {
  it('shows the token once, then only its first 8 characters; revoke deletes it', async () => {
    const created = (await inject('POST', '/api/v1/enrollment-tokens', { name: 'web-9' })).json<{
      id: string;
      token: string;
      command: string;
      boundName: string;
    }>();
    expect(created.boundName).toBe('web-9');
    expect(created.command).toContain(`--token ${created.token}`);
    const list = await inject('GET', '/api/v1/enrollment-tokens');
    expect(list.body).not.toContain(created.token);
    const listed = list.json<{ id: string; prefix: string; state: string }[]>().find((t) => t.id === created.id)!;
    expect(listed).toMatchObject({ prefix: `${created.token.slice(0, 8)}…`, state: 'active' });
    expect((await inject('DELETE', `/api/v1/enrollment-tokens/${created.id}`)).statusCode).toBe(204);
    expect((await inject('DELETE', `/api/v1/enrollment-tokens/${created.id}`)).statusCode).toBe(404);
  });
});

describe('agents', () => {
  it('lists, shows, accepts attestation and removes (revoking certificate and agent key)', async () => {
    const agent = await enrollAgent('web-7');
    const list = (await inject('GET', '/api/v1/agents')).json<{ name: string; status: string }[]>();
    expect(list.find((a) => a.name === 'web-7')).toMatchObject({ status: 'offline' });
    const detail = await inject('GET', '/api/v1/agents/web-7');
    expect(detail.json()).toMatchObject({ id: agent.agentId, removedAt: null, certSerial: expect.any(String) });

    await hub.app.core.store.agents.addDegradedReason(agent.agentId, 'attestation changed: agentCodeSha256');
    const accepted = await inject('POST', `/api/v1/agents/${agent.agentId}/accept-attestation`);
    expect(accepted.statusCode).toBe(200);
    expect((await hub.app.core.store.agents.getById(agent.agentId))?.degradedReasons).toEqual([]);

    const serial = detail.json<{ certSerial: string }>().certSerial;
    expect((await inject('DELETE', `/api/v1/agents/${agent.agentId}`)).statusCode).toBe(204);
    expect(await hub.app.core.store.revokedCerts.isRevoked(serial)).toBe(true);
    expect(await hub.app.core.apiKeys.authenticateAgent(agent.apiKey)).toBeUndefined();
    expect((await inject('GET', '/api/v1/agents/web-7')).json().removedAt).toEqual(expect.any(String));
    expect((await inject('GET', '/api/v1/agents/nobody')).json().error.code).toBe('SONDE_ERR_AGENT_NOT_FOUND');
  });
});

describe('probes', () => {
  it('goes through the policy decision point and audits once', async () => {
    await enrollAgent('prod-db-1');
    const scoped = (
      await inject('POST', '/api/v1/api-keys', { name: 'scoped-admin', role: 'admin', policy: { allowedAgents: ['staging-*'] } })
    ).json<{ rawKey: string; key: { id: string } }>();
    const denied = await inject('POST', '/api/v1/probes', { agent: 'prod-db-1', probe: 'system.disk.usage' }, scoped.rawKey);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('SONDE_ERR_POLICY_DENIED');
    const deniedAudit = (await inject('GET', `/api/v1/audit?key=${scoped.key.id}&tool=rest.probe`)).json<{ entries: unknown[] }>();
    expect(deniedAudit.entries).toEqual([expect.objectContaining({ status: 'denied', probe: 'system.disk.usage', agents: ['prod-db-1'] })]);

    const offline = await inject('POST', '/api/v1/probes', { agent: 'prod-db-1', probe: 'system.disk.usage', params: { path: '/' } });
    expect(offline.statusCode).toBe(200);
    expect(offline.json()).toMatchObject({ agent: 'prod-db-1', probe: 'system.disk.usage', status: 'offline' });
    const audit = (await inject('GET', '/api/v1/audit?agent=prod-db-1&tool=rest.probe')).json<{ entries: { status: string }[] }>();
    expect(audit.entries.filter((e) => e.status === 'offline')).toHaveLength(1);
  });

  it('validates the probe request', async () => {
    const res = await inject('POST', '/api/v1/probes', { agent: 'x', probe: 'no-dots' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/probe/);
  });
});

describe('users', () => {
  it('creates, disables, deletes; the bootstrap admin cannot be deleted', async () => {
    const created = await inject('POST', '/api/v1/users', { name: 'ann', email: 'ann@example.com', role: 'member' });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    expect((await inject('POST', '/api/v1/users', { name: 'ann', role: 'member' })).statusCode).toBe(409);
    expect((await inject('PATCH', `/api/v1/users/${id}`, { enabled: false })).json().enabled).toBe(false);
    expect((await inject('DELETE', `/api/v1/users/${id}`)).statusCode).toBe(204);
    expect((await inject('DELETE', `/api/v1/users/${hub.config.adminUser}`)).statusCode).toBe(409);
    const users = (await inject('GET', '/api/v1/users')).json<{ name: string }[]>();
    expect(users.map((u) => u.name)).toEqual([hub.config.adminUser]);
  });
});

describe('audit API', () => {
  it('pages newest first with a cursor and filters by date', async () => {
    for (let i = 0; i < 5; i++)
      await hub.app.sonde.audit.append({
        action: 'test.page',
        actor: { kind: 'system', id: null, name: 'test' },
        status: 'ok',
        tool: 'page-tool',
      });
    const first = (await inject('GET', '/api/v1/audit?tool=page-tool&limit=3')).json<{ entries: { seq: number }[]; nextBefore: number }>();
    expect(first.entries).toHaveLength(3);
    expect(first.entries[0].seq).toBeGreaterThan(first.entries[2].seq);
    const second = (await inject('GET', `/api/v1/audit?tool=page-tool&limit=3&before=${first.nextBefore}`)).json<{
      entries: unknown[];
      nextBefore: number | null;
    }>();
    expect(second.entries).toHaveLength(2);
    expect(second.nextBefore).toBeNull();
    expect((await inject('GET', '/api/v1/audit?tool=page-tool&to=2000-01-01')).json().entries).toEqual([]);
    expect((await inject('GET', '/api/v1/audit?from=yesterday')).statusCode).toBe(400);
  });

  it('verify reports ok, then the first broken entry after tampering', async () => {
    expect((await inject('GET', '/api/v1/audit/verify?full=true')).json()).toMatchObject({ ok: true, full: true });
    const target = await hub.app.sonde.audit.append({
      action: 'test.tamper',
      actor: { kind: 'system', id: null, name: 'test' },
      status: 'ok',
    });
    const backdoor = await openStoreBackdoor(hub.config.dbPath);
    await backdoor.editAuditRow(target.seq, { status: 'error' });
    const broken = (await inject('GET', '/api/v1/audit/verify')).json();
    expect(broken).toMatchObject({ ok: false, firstBrokenSeq: target.seq });
    await backdoor.editAuditRow(target.seq, { status: 'ok' });
    await backdoor.close();
  });
});

describe('OpenAPI', () => {
  it('is generated from the route schemas', async () => {
    const doc = (await hub.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } }>
      >;
    }>();
    expect(doc.openapi).toBe('3.0.3');
    for (const path of [
      '/api/v1/enroll',
      '/api/v1/agents/{id}',
      '/api/v1/api-keys/{id}/rotate',
      '/api/v1/audit/verify',
      '/api/v1/probes',
      '/api/v1/health',
      '/api/v1/auth/login',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/api/v1/enroll'].post.requestBody!.content['application/json'].schema.properties)).toEqual([
      'name',
      'csrPem',
      'agentVersion',
      'wireKey',
    ]);
  });
});
