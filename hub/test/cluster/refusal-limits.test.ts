import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precondition } from '../../../test/support/preconditions.js';
import { FAILURES_BEFORE_THROTTLE } from '../../src/auth/refusals.js';
import { tempDir } from '../helpers.js';
import { dropBuckets, natsUp, startClusterHub, testPrefix, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

/**
 * Failed authentications outside login (auth/refusals.ts) are counted by every hub together when hubs are joined over
 * NATS, as logins are: a bad-key flood spread over two hubs behind a load balancer is throttled on both once the total
 * reaches the limit, though each hub alone saw half of it.
 */
describe.skipIf(!nats.holds)('refused-key throttling shared by two hubs', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-refusals-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];

  const withBadKey = async (hub: ClusterHub, i: number): Promise<number> =>
    (await fetch(`${hub.url}/api/v1/agents`, { headers: { authorization: `Bearer sonde_${'f'.repeat(40)}${i}` } })).status;

  beforeAll(async () => {
    hubs.push(await startClusterHub(dbPath, prefix, 'hub-1'));
    hubs.push(await startClusterHub(dbPath, prefix, 'hub-2'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await dropBuckets(prefix);
    cleanup();
  });

  it('throttles the source on both hubs once the failures on both together reach the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < FAILURES_BEFORE_THROTTLE; i += 1) statuses.push(await withBadKey(hubs[i % 2], i));
    expect(statuses.every((status) => status === 401)).toBe(true);
    // Each hub saw half the limit: a per-process count would still serve. Polled without any credential, which is no
    // failure (it cannot push a hub over the limit on its own count).
    // A hub reads the shared count when it refuses a key itself: one more bad key each (answered 401 or already 429),
    // so N hubs allow at most the limit plus one per hub, never N times the limit.
    const bare = async (hub: ClusterHub): Promise<number> => (await fetch(`${hub.url}/api/v1/agents`)).status;
    for (const hub of hubs) {
      expect([401, 429]).toContain(await withBadKey(hub, 1_000));
      await expect.poll(() => bare(hub), { timeout: 15_000, interval: 100 }).toBe(429);
    }
  });
});
