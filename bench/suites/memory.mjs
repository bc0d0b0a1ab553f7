// Issue 13 item 4: hub RSS under sustained MCP load. 8 callers POST tools/call
// (bench_noop) to /mcp, first without an MCP session (no initialize, as a
// stateless client does), then with one (initialize, then the session header on
// every call). The agent is simulated (answers at once) so the load is the
// hub's alone. RSS is read at each checkpoint after a short pause; the goal is
// flat within 10 % from the first checkpoint to the last.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { row } from '../lib.mjs';
import { rawCaller } from '../mcp-raw.mjs';
import { connectSimAgent, enrollOverHttp, keyPool } from '../sim-agent.mjs';
import { MiB, REPO, rssOf, sleep, startHub } from '../stack.mjs';

async function drive(callers, count, fn) {
  let next = 0;
  let errors = 0;
  await Promise.all(
    callers.map(async (caller) => {
      while (next < count) {
        next += 1;
        try {
          await fn(caller);
        } catch (error) {
          errors += 1;
          if (errors === 1) process.stderr.write(`bench: call failed: ${error.message}\n`);
        }
      }
    }),
  );
  return errors;
}

export async function run({ smoke }) {
  // 100k and 1M calls do not fit a session on this shared machine; SONDE_BENCH_CALLS=1000000 runs them.
  const last = Number(process.env.SONDE_BENCH_CALLS ?? 10_000);
  const checkpoints = smoke ? [30, 100] : [...new Set([2_000, 5_000, 10_000, last])].filter((n) => n <= last).sort((a, b) => a - b);
  const hub = await startHub({ env: { SONDE_LOG_LEVEL: 'error' } });
  const rows = [];
  let session;
  try {
    const key = await hub.createAdminKey();
    const [keys] = await keyPool(1);
    const agent = await enrollOverHttp(hub.url, key, 'mem-agent', keys);
    const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
    const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
    session = await connectSimAgent({
      wsUrl: hub.url.replace('http', 'ws') + '/ws/agent',
      agent,
      caPem: agent.caPem,
      manifests: [bench],
      stats,
    });
    const args = { agent: agent.name };
    for (const withSession of [false, true]) {
      const label = withSession ? 'with MCP session' : 'no MCP session';
      const callers = [];
      for (let i = 0; i < 8; i++) {
        const plain = rawCaller(hub, key);
        callers.push(withSession ? rawCaller(hub, key, { session: await plain.initialize(`bench-${i}`) }) : plain);
      }
      // Warm-up so JIT, pools and caches are in place before the first reading.
      await drive(callers, smoke ? 10 : 1_000, (c) => c.call('bench_noop', args));
      let done = 0;
      const readings = [];
      let errors = 0;
      const started = performance.now();
      for (const checkpoint of checkpoints) {
        errors += await drive(callers, checkpoint - done, (c) => c.call('bench_noop', args));
        done = checkpoint;
        await sleep(smoke ? 100 : 1_000);
        const rss = rssOf(hub.pid) / MiB;
        readings.push(rss);
        rows.push(row(`${label}: hub RSS after ${checkpoint.toLocaleString('en')} calls`, rss, 'MiB'));
      }
      const rate = done / ((performance.now() - started) / 1000);
      const growth = (100 * (readings[readings.length - 1] - readings[0])) / readings[0];
      rows.push(row(`${label}: RSS growth ${checkpoints[0]} → ${done} calls`, growth, '%', '≤ 10 %', growth <= 10));
      rows.push(row(`${label}: calls/s during the run (8 callers, simulated agent)`, rate, 'calls/s'));
      if (errors) rows.push(row(`${label}: failed calls`, errors, 'calls', '0', false));
    }
  } finally {
    session?.close();
    await hub.stop();
  }
  return rows;
}
