import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precondition } from '../../../test/support/preconditions.js';
import { ADMIN_PASSWORD, ADMIN_USER, tempDir } from '../helpers.js';
import { natsUp, startCluster, testPrefix, type Cluster, type ClusterHub } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

/**
 * Login throttling counts every hub's failures together (NATS KV, cluster/limits.ts): behind a load balancer
 * an attacker cannot multiply the allowed guesses by the number of hubs. Limits: 5 failures per user name and
 * source, 10 per source, in 15 minutes (routes/auth.ts).
 */
describe.skipIf(!nats.holds)('login throttling shared by two hubs', () => {
  const prefix = testPrefix();
  const { dir, cleanup } = tempDir('sonde-cluster-limits-');
  const dbPath = path.join(dir, 'sonde.db');
  const hubs: ClusterHub[] = [];
  let cluster: Cluster | undefined;

  const login = async (hub: ClusterHub, user: string, password: string): Promise<{ status: number; code?: string }> => {
    const response = await fetch(`${hub.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    const body = (await response.json()) as { error?: { code?: string }; code?: string };
    return { status: response.status, code: body.error?.code ?? body.code };
  };

  beforeAll(async () => {
    cluster = await startCluster(dbPath, prefix, [{}, {}]);
    hubs.push(...cluster.hubs);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    cleanup();
  });

  it('locks a guessed account after 5 failures in total, spread over both hubs', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(await login(hubs[attempt % 2], ADMIN_USER, `wrong-${attempt}`)).toMatchObject({ status: 401 });
    }
    // Each hub saw 2 or 3 failures only: a per-process count would let both of these through.
    for (const hub of hubs) expect(await login(hub, ADMIN_USER, ADMIN_PASSWORD)).toMatchObject({ status: 429 });
  });

  it('counts failures made at the same moment on both hubs, none lost (compare-and-set)', async () => {
    // 5 failures from this source so far; 5 more at once, each under a name of its own, reach the per-source limit of 10.
    const answers = await Promise.all(Array.from({ length: 5 }, (_, index) => login(hubs[index % 2], `guess-${index}`, 'wrong')));
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
    for (const hub of hubs) expect(await login(hub, 'someone-else', 'wrong')).toMatchObject({ status: 429 });
  });
});
