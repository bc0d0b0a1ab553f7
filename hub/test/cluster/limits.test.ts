import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedAttemptCounters } from '../../src/cluster/limits.js';
import { precondition } from '../../../test/support/preconditions.js';
import { NATS_URL, natsUp, testPrefix } from './support.js';

const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);

const ignore = (): void => undefined;
const log = {
  level: 'silent',
  fatal: ignore,
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  trace: ignore,
  silent: ignore,
  child: () => log,
} as unknown as FastifyBaseLogger;

describe.skipIf(!nats.holds)('shared failure windows (NATS KV)', () => {
  const bucket = `${testPrefix()}_limits`;
  const connections: NatsConnection[] = [];
  const open = async (): Promise<SharedAttemptCounters> => {
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    const kv = await new Kvm(jetstream(nc, { timeout: 1_000 })).create(bucket, { history: 1, ttl: 60_000 });
    return new SharedAttemptCounters(kv, log);
  };

  afterAll(async () => {
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc.close();
    for (const connection of connections) await connection.close().catch(() => undefined);
  });

  it('counts on two connections as one window; a reset clears it for both', async () => {
    const [a, b] = [(await open()).window('login-user', 3, 60_000), (await open()).window('login-user', 3, 60_000)];
    await Promise.all([a.fail('mallory@10.0.0.1'), b.fail('mallory@10.0.0.1'), a.fail('mallory@10.0.0.1')]);
    expect(await b.blockedFor('mallory@10.0.0.1')).toBeGreaterThan(59_000);
    expect(await a.blockedFor('alice@10.0.0.1')).toBe(0);
    await a.reset('mallory@10.0.0.1');
    expect(await b.blockedFor('mallory@10.0.0.1')).toBe(0);
  });

  it('keeps windows of different names apart', async () => {
    const counters = await open();
    const logins = counters.window('login-ip', 1, 60_000);
    const starts = counters.window('oidc-start', 1, 60_000);
    await logins.fail('10.0.0.2');
    expect(await logins.blockedFor('10.0.0.2')).toBeGreaterThan(0);
    expect(await starts.blockedFor('10.0.0.2')).toBe(0);
  });

  it('throttles on its own count, never lets through, when NATS is gone', async () => {
    const counters = await open();
    const window = counters.window('login-user', 2, 60_000);
    await connections.at(-1)!.close();
    await window.fail('eve@10.0.0.3');
    expect(await window.blockedFor('eve@10.0.0.3')).toBe(0);
    await window.fail('eve@10.0.0.3');
    expect(await window.blockedFor('eve@10.0.0.3')).toBeGreaterThan(59_000);
  });
});
