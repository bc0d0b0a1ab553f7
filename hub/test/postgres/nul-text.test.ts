import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers.js';
import { postgresForTests } from './support.js';

/**
 * PostgreSQL text cannot hold NUL, which SQLite stores: client text with a NUL outside the audit columns (which are
 * stored escaped) must get a clear 400 on a PostgreSQL hub, never a database error answered as a 500, and must leave
 * nothing half-written (the change and its audit entry share a transaction).
 */
const pg = await postgresForTests(import.meta.url);

describe.skipIf(!pg.available.holds)('NUL in client text on the PostgreSQL store', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ SONDE_DATABASE_URL: await pg.fresh() });
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await pg.dropAll();
  });

  const post = (url: string, payload: unknown) =>
    hub.app.inject({
      method: 'POST',
      url,
      headers: { ...hub.auth(), 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  it('refuses a key name with NUL with a 400 naming the cause, and writes neither the key nor its audit entry', async () => {
    const auditBefore = await hub.app.core.store.audit.count();
    const response = await post('/api/v1/api-keys', { name: 'ops\u0000key', role: 'member' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'SONDE_ERR_VALIDATION', message: expect.stringMatching(/NUL/) } });
    expect((await hub.app.core.apiKeys.list()).some((key) => key.name.startsWith('ops'))).toBe(false);
    expect(await hub.app.core.store.audit.count()).toBe(auditBefore);
  });

  it('refuses NUL in an authorized group the same way (a second table, a second route)', async () => {
    const response = await post('/api/v1/groups', { groupId: 'grp\u0000-1', displayName: 'Ops', defaultRole: 'member' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'SONDE_ERR_VALIDATION', message: expect.stringMatching(/NUL/) } });
  });

  it('still audits a tool call whose parameters carry NUL (the audit columns are stored escaped)', async () => {
    const response = await post('/api/v1/probes', { agent: 'no-such-agent', probe: 'system.info', params: { path: '/tmp/\u0000x' } });
    expect(response.statusCode).toBe(404);
    const [entry] = await hub.app.core.store.audit.query({ order: 'desc', limit: 1 });
    expect(entry).toMatchObject({ action: 'rest.probe', status: 'error' });
    expect(JSON.stringify(entry.params)).toContain('\\u0000x');
  });
});
