// Issue 23: what routing a probe through another hub costs. Three `sonde-hub serve` processes on one
// SQLite file joined over NATS (SONDE_BENCH_NATS_URL, default nats://127.0.0.1:4222, JetStream on); one
// simulated agent (answers at once, runs nothing) on hub 1 and one on hub 3. MCP tools/call `bench_noop`
// on hub 1, alternating same-hub and cross-hub calls in the same run, so both see the same machine load.
//
//   node bench/multi-hub.mjs            # 2,000 calls of each kind
//   node bench/multi-hub.mjs --smoke    # 100 of each
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize } from './lib.mjs';
import { rawCaller } from './mcp-raw.mjs';
import { connectSimAgent, enrollOverHttp, keyPool } from './sim-agent.mjs';
import { REPO, sleep, startHub } from './stack.mjs';

const smoke = process.argv.includes('--smoke');
const calls = smoke ? 100 : Number(process.env.SONDE_BENCH_CALLS ?? 2_000);
const natsUrl = process.env.SONDE_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

const { hostname, port } = new URL(natsUrl);
const up = await new Promise((resolve) => {
  const socket = net.connect({ host: hostname, port: Number(port || 4222) });
  socket.once('connect', () => (socket.destroy(), resolve(true)));
  socket.once('error', () => resolve(false));
});
if (!up) {
  console.error(`no NATS server on ${natsUrl} (bash .ci/services.sh starts one)`);
  process.exit(2);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-multihub-'));
const prefix = `bench${randomBytes(3).toString('hex')}`;
const shared = {
  SONDE_SECRET: randomBytes(32).toString('base64'),
  SONDE_NATS_URL: natsUrl,
  SONDE_NATS_PREFIX: prefix,
  SONDE_HEARTBEAT_MS: '5000',
  SONDE_LOG_LEVEL: 'error',
};
const hubs = [];
const sessions = [];
try {
  hubs.push(await startHub({ env: { ...shared, SONDE_HUB_ID: 'hub-1' }, dataDir }));
  hubs.push(...(await Promise.all(['hub-2', 'hub-3'].map((id) => startHub({ env: { ...shared, SONDE_HUB_ID: id }, dataDir })))));
  const key = await hubs[0].createAdminKey();
  const [keys] = await keyPool(1);
  const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
  const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
  for (const [name, hub] of [
    ['near', hubs[0]],
    ['far', hubs[2]],
  ]) {
    const agent = await enrollOverHttp(hub.url, key, name, keys);
    sessions.push(
      await connectSimAgent({ wsUrl: `${hub.url.replace('http', 'ws')}/ws/agent`, agent, caPem: agent.caPem, manifests: [bench], stats }),
    );
  }
  // Hub 1 learns of the far agent through presence (NATS KV watch).
  for (;;) {
    const response = await fetch(`${hubs[0].url}/api/v1/agents`, { headers: { authorization: `Bearer ${key}` } });
    const agents = await response.json();
    if (agents.filter((a) => a.status === 'online').length === 2) break;
    await sleep(20);
  }
  const caller = rawCaller(hubs[0], key);
  const samples = { near: [], far: [] };
  let errors = 0;
  const once = async (agent) => {
    const t0 = performance.now();
    const answer = await caller.call('bench_noop', { agent });
    const ms = performance.now() - t0;
    if (answer?.isError || JSON.stringify(answer).includes('"isError":true')) errors += 1;
    return ms;
  };
  for (let i = 0; i < Math.min(200, calls / 5); i++) await once(i % 2 ? 'far' : 'near');
  for (let i = 0; i < calls; i++) {
    samples.near.push(await once('near'));
    samples.far.push(await once('far'));
  }
  const near = summarize(samples.near);
  const far = summarize(samples.far);
  const f = (v) => v.toFixed(2);
  console.log(`multi-hub bench: ${calls} calls of each kind, MCP tools/call bench_noop on hub 1, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`  same hub  p50 ${f(near.p50)} ms  p99 ${f(near.p99)} ms`);
  console.log(`  cross hub p50 ${f(far.p50)} ms  p99 ${f(far.p99)} ms  (hub 1 → NATS → hub 3 → agent and back)`);
  console.log(
    `  overhead  p50 ${f(far.p50 - near.p50)} ms  p99 ${f(far.p99 - near.p99)} ms; errors ${errors}; agent probes ${stats.probes}`,
  );
} finally {
  for (const session of sessions) session.close();
  for (const hub of hubs) await hub.stop({ keep: true });
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  for (const bucket of ['hubs', 'presence']) await jsm.streams.delete(`KV_${prefix}_${bucket}`).catch(() => undefined);
  await nc.close();
  rmSync(dataDir, { recursive: true, force: true });
}
