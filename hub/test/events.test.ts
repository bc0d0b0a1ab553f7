import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER, makeCsr, startTestHub, type TestHub } from './helpers.js';
import { openSse, type SseEvent, type SseStream } from './support/sse.js';

/**
 * GET /api/v1/events over a real socket: authorised like the REST reads
 * (admin key or admin session; members and strangers refused), a snapshot
 * then deltas for real changes (an enrolment, a removal, audit entries), and
 * resuming from Last-Event-ID.
 */
let hub: TestHub;
let base: string;
const open: SseStream[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const stream of open) stream.close();
  await hub?.close();
});

async function stream(headers: Record<string, string> = hub.auth(), query = ''): Promise<SseStream> {
  const s = await openSse(`${base}/api/v1/events${query}`, headers);
  open.push(s);
  return s;
}

async function enroll(name: string): Promise<string> {
  const token = await hub.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: hub.auth(), payload: {} });
  const res = await hub.app.inject({
    method: 'POST',
    url: '/api/v1/enroll',
    headers: { authorization: `Bearer ${token.json<{ token: string }>().token}` },
    payload: { name, csrPem: makeCsr(name), agentVersion: '0.1.0' },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ agentId: string }>().agentId;
}

const isAgent = (name: string) => (e: SseEvent) => e.event === 'agent' && (e.data as { agent: { name: string } }).agent.name === name;
const isAudit = (action: string) => (e: SseEvent) =>
  e.event === 'audit' && (e.data as { entry: { action: string } }).entry.action === action;

describe('GET /api/v1/events', () => {
  it('refuses strangers (401) and member keys (403) like the REST reads', async () => {
    expect((await stream({})).status).toBe(401);
    expect((await stream(hub.auth(hub.memberKey))).status).toBe(403);
    expect((await stream({ authorization: 'Bearer sonde_unknown' })).status).toBe(401);
  });

  it('answers HEAD at once with 404 (REST reads have no HEAD, plugins/head-routes.ts), never an empty stream held open', async () => {
    // A stream opened for a HEAD would never complete: the signal turns that hang into a failure.
    const response = await fetch(`${base}/api/v1/events`, { method: 'HEAD', headers: hub.auth(), signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('');
  });

  it('sends a snapshot, then an agent event when one enrols, audit entries, and agent-removed', async () => {
    const before = await enroll('ev-old');
    const s = await stream();
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toContain('text/event-stream');
    const snapshot = await s.next((e) => e.event === 'snapshot');
    expect((snapshot.data as { agents: Array<{ id: string }> }).agents.map((a) => a.id)).toContain(before);
    expect(snapshot.id).toMatch(/^[A-Za-z0-9_-]+\.\d+$/);

    const id = await enroll('ev-new');
    const added = await s.next(isAgent('ev-new'));
    expect(added.data).toMatchObject({ agent: { id, name: 'ev-new', status: 'offline', connected: false } });
    await s.next(isAudit('agent.enroll'));

    expect((await hub.app.inject({ method: 'DELETE', url: '/api/v1/agents/ev-new', headers: hub.auth() })).statusCode).toBe(204);
    const removed = await s.next((e) => e.event === 'agent-removed');
    expect(removed.data).toEqual({ id, name: 'ev-new' });
    await s.next(isAudit('agent.remove'));
    // Sequence numbers only grow.
    const seqs = s.events.map((e) => Number(e.id!.split('.')[1]));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('resumes after a reconnect with only what was missed; an unknown id gets a fresh snapshot', async () => {
    const first = await stream();
    await first.next((e) => e.event === 'snapshot');
    await enroll('ev-resume-1');
    const seen = await first.next(isAgent('ev-resume-1'));
    // Another stream stays open so the broker keeps its history while the first is away.
    const keeper = await stream();
    await keeper.next((e) => e.event === 'snapshot');
    first.close();
    await enroll('ev-resume-2');
    await keeper.next(isAgent('ev-resume-2'));

    const resumed = await stream({ ...hub.auth(), 'last-event-id': seen.id! });
    await resumed.next(isAgent('ev-resume-2'));
    expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
    expect(resumed.events.some(isAgent('ev-resume-1'))).toBe(false);

    for (const id of ['someone-else.1', 'garbage', `${seen.id!.split('.')[0]}.99999999`]) {
      const fresh = await stream(hub.auth(), `?lastEventId=${encodeURIComponent(id)}`);
      const snapshot = await fresh.next((e) => e.event === 'snapshot');
      expect((snapshot.data as { agents: Array<{ name: string }> }).agents.map((a) => a.name)).toContain('ev-resume-2');
      fresh.close();
    }
  });

  it('works with the dashboard session cookie (a read: no CSRF header needed)', async () => {
    const login = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { user: ADMIN_USER, password: ADMIN_PASSWORD },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const s = await stream({ cookie });
    expect(s.status).toBe(200);
    await s.next((e) => e.event === 'snapshot');
    await hub.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: hub.auth(), payload: { name: 'ev-key', role: 'member' } });
    await s.next(isAudit('api_key.create'));
  });

  it('ends the stream when the key that opened it is revoked (checked at each keep-alive)', async () => {
    // The broker re-checks credentials at every keep-alive (15 s): REST refuses the key at once, the stream within 15 s.
    const created = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: hub.auth(),
      payload: { name: 'ev-revoked', role: 'admin' },
    });
    const { key, rawKey } = created.json<{ key: { id: string }; rawKey: string }>();
    const s = await stream(hub.auth(rawKey));
    await s.next((e) => e.event === 'snapshot');
    await hub.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: hub.auth() });
    await s.ended;
    expect(s.events.length).toBeGreaterThan(0);
  }, 30_000);
});
