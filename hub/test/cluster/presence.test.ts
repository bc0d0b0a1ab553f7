import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubLeases } from '../../src/cluster/lease.js';
import { Presence, type HolderCheck } from '../../src/cluster/presence.js';
import { precondition } from '../../../test/support/preconditions.js';
import { waitFor } from '../gateway/support/wait.js';
import { natsConnection, natsUp, testPrefix } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

/**
 * The presence claim on the machine's NATS server, hub against hub on one bucket: the first write of a claim trusts
 * the hub's watch of the bucket, so these check that a view that is behind (or missing) never lets two hubs hold one
 * identity, and that what the watch knows is enough for the usual claims.
 */
describe.skipIf(!nats.holds)('presence claims', () => {
  const bucket = `${testPrefix()}_presence`;
  const ignore = (): void => undefined;
  const log = { fatal: ignore, error: ignore, warn: ignore, info: ignore, debug: ignore, trace: ignore } as unknown as FastifyBaseLogger;
  const live = new Set(['hub-a', 'hub-b', 'hub-c']);
  const leases = { isLive: (hubId: string) => live.has(hubId) } as unknown as HubLeases;
  const alive: HolderCheck = () => Promise.resolve('alive');
  const gone: HolderCheck = () => Promise.resolve('gone');
  let nc: NatsConnection;
  let kv: KV;
  const started: Presence[] = [];
  const hub = async (hubId: string, { watching = true } = {}): Promise<Presence> => {
    const presence = new Presence(kv, leases, hubId, log);
    if (watching) {
      await presence.start();
      started.push(presence);
    }
    return presence;
  };

  beforeAll(async () => {
    nc = await natsConnection();
    kv = await new Kvm(nc).create(bucket, { history: 1 });
  });
  afterAll(async () => {
    for (const presence of started) presence.stop();
    await (await jetstreamManager(nc)).streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc.close();
  });

  it('gives a new identity claimed by two hubs at once to exactly one of them', async () => {
    const [a, b] = [await hub('hub-a'), await hub('hub-b')];
    for (let i = 0; i < 10; i++) {
      const agentId = randomUUID();
      const outcomes = await Promise.all([a.claim(agentId, alive), b.claim(agentId, alive)]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    }
  });

  it('keeps an identity with a live holder that answers, even for a hub whose view of the bucket is empty', async () => {
    const a = await hub('hub-a');
    const agentId = randomUUID();
    expect(await a.claim(agentId, alive)).toEqual({ ok: true });
    // A hub that never read the bucket tries "the key must not exist" first; the server refuses and the claim reads.
    const blind = await hub('hub-b', { watching: false });
    expect(await blind.claim(agentId, alive)).toEqual({ ok: false, holderHub: 'hub-a' });
    // The holder's socket does not answer: the newcomer takes the identity over.
    expect(await blind.claim(agentId, gone)).toEqual({ ok: true });
    expect((await kv.get(agentId))?.json<{ hubId: string }>().hubId).toBe('hub-b');
  });

  it('claims a released identity and one of a dead hub, and a release never deletes another hub’s claim', async () => {
    const [a, b] = [await hub('hub-a'), await hub('hub-b')];
    const agentId = randomUUID();
    expect(await a.claim(agentId, alive)).toEqual({ ok: true });
    await a.release(agentId);
    await waitFor(() => a.holderOf(agentId) === undefined && b.holderOf(agentId) === undefined, 'the release seen by both hubs');
    expect(await b.claim(agentId, alive)).toEqual({ ok: true });
    await waitFor(() => a.holderOf(agentId) === 'hub-b', 'hub-b’s claim seen by hub-a');

    // hub-b dies (its lease runs out): its entry is nobody's, and hub-c takes it over without asking anyone.
    live.delete('hub-b');
    try {
      const c = await hub('hub-c');
      await waitFor(() => c.owned().length === 0 && c.holderOf(agentId) === undefined, 'hub-c sees the entry as nobody’s');
      expect(await c.claim(agentId, () => Promise.reject(new Error('a dead hub is not asked')))).toEqual({ ok: true });
      // hub-b's release (its revision is stale) leaves hub-c's claim in place.
      await b.release(agentId);
      expect((await kv.get(agentId))?.json<{ hubId: string }>().hubId).toBe('hub-c');
    } finally {
      live.add('hub-b');
    }
  });
});
