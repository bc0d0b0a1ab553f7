import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollAgent, startHubUnderAttack, type HubUnderAttack, type Json } from './support.js';

/**
 * Issue 19, "scoped keys are scoped in everything": an admin key limited to
 * `web-*` tries everything an attacker holding it would, against a real hub
 * process over HTTP: mint a wider key, take over a wider key by rotating it,
 * read other agents' audit and fleet data, bind enrollment tokens to other
 * names, and use hub-wide routes. And a client-labelled key on REST.
 */
describe('a scoped admin key is bounded by its scope on every REST door (real hub process)', () => {
  let target: HubUnderAttack;
  let scoped: string;
  let scopedId: string;
  let rootId: string;

  beforeAll(async () => {
    target = await startHubUnderAttack();
    await enrollAgent(target.url, target.adminKey, 'web-1');
    await enrollAgent(target.url, target.adminKey, 'db-1');
    const made = await api(target.url, target.adminKey, 'POST', '/api/v1/api-keys', {
      name: 'web-admin',
      role: 'admin',
      policy: { allowedAgents: ['web-*'] },
    });
    expect(made.status).toBe(201);
    scoped = made.json.rawKey;
    scopedId = made.json.key.id;
    const keys = await api(target.url, target.adminKey, 'GET', '/api/v1/api-keys');
    rootId = (keys.json as Json[]).find((key) => key.name === 'root')!.id;
  }, 120_000);
  afterAll(() => target?.stop());

  it('cannot mint a key wider than itself, in any dimension', async () => {
    const wider: Json[] = [
      { name: 'x', role: 'admin' },
      { name: 'x', role: 'admin', policy: { allowedAgents: ['*'] } },
      { name: 'x', role: 'admin', policy: { allowedAgents: ['web-*', 'db-1'] } },
      { name: 'x', role: 'member', policy: { allowedAgents: ['w*'] } },
    ];
    for (const body of wider) {
      const answer = await api(target.url, scoped, 'POST', '/api/v1/api-keys', body);
      expect(answer.status, JSON.stringify(body)).toBe(403);
      expect(answer.json.error.code).toBe('SONDE_ERR_POLICY_DENIED');
    }
    for (const allowedAgents of [['web-*'], ['web-1'], ['web-7']]) {
      const answer = await api(target.url, scoped, 'POST', '/api/v1/api-keys', { name: 'ok', role: 'admin', policy: { allowedAgents } });
      expect(answer.status, JSON.stringify(allowedAgents)).toBe(201);
    }
    // The refusals are in the audit, for the unscoped admin to see.
    const audit = await api(target.url, target.adminKey, 'GET', '/api/v1/audit?tool=api_key.create');
    expect((audit.json.entries as Json[]).filter((entry) => entry.status === 'denied').length).toBe(4);
  });

  it('cannot rotate, revoke or even list a key wider than itself', async () => {
    expect((await api(target.url, scoped, 'POST', `/api/v1/api-keys/${rootId}/rotate`)).status).toBe(404);
    expect((await api(target.url, scoped, 'POST', '/api/v1/api-keys/root/rotate')).status).toBe(404);
    expect((await api(target.url, scoped, 'DELETE', `/api/v1/api-keys/${rootId}`)).status).toBe(404);
    const listed = (await api(target.url, scoped, 'GET', '/api/v1/api-keys')).json as Json[];
    const names = listed.map((key) => key.name);
    expect(names).not.toContain('root');
    expect(names).not.toContain('agent:db-1');
    expect(names).toContain('web-admin');
    // The root key still works: nothing above changed it.
    expect((await api(target.url, target.adminKey, 'GET', '/api/v1/agents')).status).toBe(200);
  });

  it('sees and manages only its agents; others answer as if they did not exist', async () => {
    const agents = (await api(target.url, scoped, 'GET', '/api/v1/agents')).json as Json[];
    expect(agents.map((agent) => agent.name)).toEqual(['web-1']);
    for (const [method, route] of [
      ['GET', '/api/v1/agents/db-1'],
      ['DELETE', '/api/v1/agents/db-1'],
      ['POST', '/api/v1/agents/db-1/accept-attestation'],
    ] as const) {
      const answer = await api(target.url, scoped, method, route);
      expect(answer.status, `${method} ${route}`).toBe(404);
    }
    expect((await api(target.url, scoped, 'GET', '/api/v1/agents/web-1')).status).toBe(200);
    const probe = await api(target.url, scoped, 'POST', '/api/v1/probes', { agent: 'db-1', probe: 'system.disk.usage' });
    expect(probe.status).toBe(403);
    // db-1 is still there for the unscoped admin.
    expect((await api(target.url, target.adminKey, 'GET', '/api/v1/agents/db-1')).status).toBe(200);
  });

  it("reads only its own actions and its agents' audit entries", async () => {
    const entries = (await api(target.url, scoped, 'GET', '/api/v1/audit?limit=500')).json.entries as Json[];
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const own = entry.actor.id === scopedId;
      const aboutWeb = entry.agents.length > 0 && entry.agents.every((name: string) => name.startsWith('web-'));
      expect(own || aboutWeb, JSON.stringify(entry)).toBe(true);
    }
    // db-1 was enrolled and its token made by root: none of that reaches this key (its own refused attempts on db-1 do).
    const others = (await api(target.url, scoped, 'GET', '/api/v1/audit?agent=db-1')).json.entries as Json[];
    expect(others.filter((entry) => entry.actor.id !== scopedId)).toEqual([]);
    const all = (await api(target.url, target.adminKey, 'GET', '/api/v1/audit?agent=db-1')).json.entries as Json[];
    expect(all.filter((entry) => entry.actor.id !== scopedId).length).toBeGreaterThan(0);
  });

  it('binds enrollment tokens only to names in its scope', async () => {
    for (const body of [{ name: 'db-2' }, {}]) {
      const answer = await api(target.url, scoped, 'POST', '/api/v1/enrollment-tokens', body);
      expect(answer.status, JSON.stringify(body)).toBe(403);
    }
    expect((await api(target.url, scoped, 'POST', '/api/v1/enrollment-tokens', { name: 'web-2' })).status).toBe(201);
    const root = await api(target.url, target.adminKey, 'POST', '/api/v1/enrollment-tokens', { name: 'db-3' });
    const tokens = (await api(target.url, scoped, 'GET', '/api/v1/enrollment-tokens')).json as Json[];
    expect(tokens.map((token) => token.boundName)).not.toContain('db-3');
    expect((await api(target.url, scoped, 'DELETE', `/api/v1/enrollment-tokens/${root.json.id}`)).status).toBe(404);
  });

  it('is refused on hub-wide routes', async () => {
    for (const [method, route, body] of [
      ['GET', '/api/v1/users', undefined],
      ['GET', '/api/v1/groups', undefined],
      ['GET', '/api/v1/audit/verify', undefined],
      ['GET', '/api/v1/integrations/packs', undefined],
      ['POST', '/api/v1/revocations', { packs: [] }],
    ] as const) {
      const answer = await api(target.url, scoped, method, route, body);
      expect(answer.status, `${method} ${route}`).toBe(403);
      expect(answer.json.error.code).toBe('SONDE_ERR_FORBIDDEN');
    }
  });

  it('applies allowedClients on REST as on MCP, and never mints a key with more clients', async () => {
    const made = await api(target.url, target.adminKey, 'POST', '/api/v1/api-keys', {
      name: 'ops-cli-only',
      role: 'admin',
      policy: { allowedClients: ['ops-cli'] },
    });
    const labelled = made.json.rawKey as string;
    expect((await api(target.url, labelled, 'GET', '/api/v1/agents')).status).toBe(403);
    expect((await api(target.url, labelled, 'GET', '/api/v1/agents', undefined, { 'x-sonde-client': 'cursor' })).status).toBe(403);
    expect((await api(target.url, labelled, 'GET', '/api/v1/agents', undefined, { 'x-sonde-client': 'ops-cli' })).status).toBe(200);
    const unlabelled = await api(
      target.url,
      labelled,
      'POST',
      '/api/v1/api-keys',
      { name: 'y', role: 'admin' },
      { 'x-sonde-client': 'ops-cli' },
    );
    expect(unlabelled.status).toBe(403);
    const same = await api(
      target.url,
      labelled,
      'POST',
      '/api/v1/api-keys',
      { name: 'y', role: 'member', policy: { allowedClients: ['ops-cli'] } },
      { 'x-sonde-client': 'ops-cli' },
    );
    expect(same.status).toBe(201);
  });
});
