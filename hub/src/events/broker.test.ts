import { describe, expect, it } from 'vitest';
import type { AgentView, AuditRecord, Fleet } from '../services.js';
import { EventBroker, type StreamScope, type Subscriber } from './broker.js';

/**
 * The broker's fan-out and scoping against an in-memory fleet (the Fleet
 * interface the gateway implements) and audit reader: one diff and one
 * serialisation per change whatever the number of subscribers.
 */
function view(name: string, status: AgentView['status'] = 'online', lastSeenAt = '2026-12-07T07:00:00.000Z'): AgentView {
  return {
    id: `id-${name}`,
    name,
    status,
    reasons: [],
    connected: status !== 'offline',
    lastSeenAt,
    enrolledAt: '2026-12-01T00:00:00.000Z',
    agentVersion: '0.1.0',
    os: 'linux',
    packs: [],
    isolation: null,
  };
}

function setup() {
  let agents = [view('a'), view('b')];
  let version = 1;
  let lists = 0;
  const fleet: Fleet = {
    list: () => {
      lists += 1;
      return agents;
    },
    get: (name) => agents.find((a) => a.name === name),
    version: () => version,
  };
  const audit: AuditRecord[] = [];
  const broker = new EventBroker({
    fleet,
    audit: {
      query: (filter) => Promise.resolve(audit.filter((e) => e.seq > (filter.afterSeq ?? 0)).slice(0, filter.limit)),
      last: () => Promise.resolve(audit.at(-1)),
    },
    tickMs: 60_000,
    auditMs: 60_000,
    heartbeatMs: 60_000,
  });
  return {
    broker,
    set(next: AgentView[]) {
      agents = next;
      version += 1;
    },
    lists: () => lists,
    audit,
  };
}

function subscriber(scope: StreamScope): Subscriber & { chunks: string[] } {
  const chunks: string[] = [];
  return { scope, chunks, write: (chunk) => chunks.push(chunk), close: () => undefined };
}

const ALL: StreamScope = { all: true, agent: () => true, audit: true };

describe('EventBroker', () => {
  it('fans one change out to 50 subscribers as the same string, after one fleet read', async () => {
    const t = setup();
    const subs = Array.from({ length: 50 }, () => subscriber(ALL));
    for (const sub of subs) await t.broker.subscribe(sub);
    expect(subs.every((sub) => sub.chunks.length === 1 && sub.chunks[0].includes('event: snapshot'))).toBe(true);
    // The 50 snapshots are one cached string too.
    expect(new Set(subs.map((sub) => sub.chunks[0])).size).toBe(1);

    const before = t.lists();
    t.set([view('a', 'offline'), view('b')]);
    t.broker.checkFleet();
    expect(t.lists() - before).toBe(1);
    const frames = subs.map((sub) => sub.chunks[1]);
    expect(frames[0]).toMatch(/^id: [\w-]+\.1\nevent: agent\ndata: \{"agent":\{"id":"id-a".*"status":"offline"/);
    expect(frames.every((frame) => frame === frames[0])).toBe(true);
    t.broker.close();
  });

  it('does not publish when nothing but the last-seen time moved, nor when the version did not move', async () => {
    const t = setup();
    const sub = subscriber(ALL);
    await t.broker.subscribe(sub);
    t.broker.checkFleet();
    t.set([view('a', 'online', '2026-12-07T07:00:05.000Z'), view('b')]);
    t.broker.checkFleet();
    expect(sub.chunks).toHaveLength(1);
    t.set([view('b')]);
    t.broker.checkFleet();
    expect(sub.chunks.at(-1)).toContain('event: agent-removed\ndata: {"id":"id-a","name":"a"}');
    t.broker.close();
  });

  it('gives a scoped subscriber only its agents and no audit entries', async () => {
    const t = setup();
    const scoped = subscriber({ all: false, agent: (name) => name === 'b', audit: false });
    const admin = subscriber(ALL);
    await t.broker.subscribe(scoped);
    await t.broker.subscribe(admin);
    expect(scoped.chunks[0]).toContain('"name":"b"');
    expect(scoped.chunks[0]).not.toContain('"name":"a"');
    expect(scoped.chunks[0]).toContain('"auditSeq":null');
    t.set([view('a', 'degraded'), view('b', 'offline')]);
    t.broker.checkFleet();
    t.audit.push({ seq: 1, at: 'now', hash: 'h', action: 'api_key.create', actor: { kind: 'user', id: null, name: 'x' }, status: 'ok' });
    await t.broker.checkAudit();
    expect(scoped.chunks.slice(1).map((c) => /event: (\S+)/.exec(c)![1])).toEqual(['agent']);
    expect(scoped.chunks[1]).toContain('"name":"b"');
    expect(admin.chunks.slice(1).map((c) => /event: (\S+)/.exec(c)![1])).toEqual(['agent', 'agent', 'audit']);
    t.broker.close();
  });

  it('replays what a returning subscriber missed, and a snapshot once it fell out of the history', async () => {
    const t = setup();
    const stay = subscriber(ALL);
    await t.broker.subscribe(stay);
    t.set([view('a', 'offline'), view('b')]);
    t.broker.checkFleet();
    const lastId = /^id: (\S+)/.exec(stay.chunks[1])![1];
    t.set([view('a', 'offline'), view('b', 'offline')]);
    t.broker.checkFleet();
    const back = subscriber(ALL);
    await t.broker.subscribe(back, lastId);
    expect(back.chunks).toEqual([stay.chunks[2]]);
    const stale = subscriber(ALL);
    await t.broker.subscribe(stale, 'another-epoch.1');
    expect(stale.chunks[0]).toContain('event: snapshot');
    t.broker.close();
  });

  it('sends integration pack changes after an integration audit entry, to admins only, and in the snapshot', async () => {
    const audit: AuditRecord[] = [];
    let packs = [{ name: 'prometheus', state: 'pending', pending: { version: '1.0.0' } }];
    let reads = 0;
    const broker = new EventBroker({
      fleet: { list: () => [view('a')], get: () => undefined, version: () => 1 },
      audit: {
        query: (filter) => Promise.resolve(audit.filter((e) => e.seq > (filter.afterSeq ?? 0)).slice(0, filter.limit)),
        last: () => Promise.resolve(audit.at(-1)),
      },
      integrations: () => {
        reads += 1;
        return Promise.resolve(packs);
      },
      tickMs: 60_000,
      auditMs: 60_000,
      heartbeatMs: 60_000,
    });
    const admin = subscriber(ALL);
    const scoped = subscriber({ all: false, agent: (name) => name === 'a', audit: false });
    await broker.subscribe(admin);
    await broker.subscribe(scoped);
    expect(admin.chunks[0]).toContain('"integrations":[{"name":"prometheus","state":"pending"');
    expect(scoped.chunks[0]).not.toContain('integrations');
    // An approval: the pack changes, and the audit entry is what tells the broker to look.
    packs = [{ name: 'prometheus', state: 'active', pending: null as unknown as { version: string } }];
    await broker.checkAudit();
    expect(admin.chunks.join('')).not.toContain('event: integration\n');
    const before = reads;
    audit.push({ seq: 1, at: 'now', hash: 'h', action: 'integration.approve', actor: { kind: 'user', id: null, name: 'x' }, status: 'ok' });
    await broker.checkAudit();
    expect(reads).toBe(before + 1);
    const sent = admin.chunks.filter((chunk) => chunk.includes('event: integration\n'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('"state":"active"');
    expect(scoped.chunks.join('')).not.toContain('integration');
    // The same view again is not sent again; a removed pack is.
    await broker.checkAudit();
    packs = [];
    await broker.checkAudit();
    expect(admin.chunks.filter((chunk) => chunk.includes('event: integration\n'))).toHaveLength(1);
    expect(admin.chunks.at(-1)).toContain('event: integration-removed');
    broker.close();
  });
});
