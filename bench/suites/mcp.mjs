// Issue 18: MCP tools/call throughput of one hub, the figure its asynchronous store seam and plugin composition
// must not lower by more than 5 %. A real hub and a simulated agent that answers at once (bench/sim-agent.mjs, the real
// wire protocol, every frame signed and verified), so the load is the hub's: the closed loop of 1, 8 and 32 callers
// POSTs tools/call bench_noop (plain JSON-RPC, no MCP session) for a fixed time each. Hub CPU per call comes from
// /proc (user + system of the hub process over the window), the steadier figure on a shared host.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { row, summarize } from '../lib.mjs';
import { closedLoop, rawCaller } from '../mcp-raw.mjs';
import { connectSimAgent, enrollOverHttp, keyPool } from '../sim-agent.mjs';
import { REPO, sleep, startHub } from '../stack.mjs';

/** User + system CPU of a process so far, in ms (from /proc/<pid>/stat; clock ticks are 100 per second on Linux). */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function run({ smoke }) {
  const seconds = smoke ? 0.5 : Number(process.env.SONDE_BENCH_MCP_SECONDS ?? 10);
  const hub = await startHub({ env: { SONDE_LOG_LEVEL: 'error' } });
  const rows = [];
  let session;
  try {
    const key = await hub.createAdminKey();
    const [keys] = await keyPool(1);
    const agent = await enrollOverHttp(hub.url, key, 'mcp-bench-agent', keys);
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
    const callers = Array.from({ length: 32 }, () => rawCaller(hub, key));
    // Until the catalog lists the agent's tool (registration is asynchronous), then a warm-up for JIT and pools.
    for (let tries = 0; ; tries++) {
      try {
        await callers[0].call('bench_noop', args);
        break;
      } catch (error) {
        if (tries > 500) throw error;
        await sleep(10);
      }
    }
    await closedLoop(8, smoke ? 200 : 2_000, (c) => callers[c].call('bench_noop', args));
    for (const n of [1, 8, 32]) {
      const cpu0 = cpuMsOf(hub.pid);
      const load = await closedLoop(n, seconds * 1000, (c) => callers[c].call('bench_noop', args));
      const cpuMs = cpuMsOf(hub.pid) - cpu0;
      const latency = summarize(load.samples);
      rows.push(row(`tools/call no-op calls/s, ${n} caller${n === 1 ? '' : 's'} (simulated agent)`, load.perSecond, 'calls/s'));
      rows.push(row(`tools/call no-op p50, ${n} caller${n === 1 ? '' : 's'}`, latency.p50, 'ms'));
      rows.push(row(`tools/call no-op p99, ${n} caller${n === 1 ? '' : 's'}`, latency.p99, 'ms'));
      rows.push(row(`hub CPU per tools/call, ${n} caller${n === 1 ? '' : 's'}`, (cpuMs * 1000) / Math.max(1, load.calls), 'µs'));
      if (load.errors) rows.push(row(`failed calls, ${n} callers`, load.errors, 'calls', '0', false));
    }
    if (stats.rejects || stats.closed)
      rows.push(row('simulated agent rejected or closed', stats.rejects + stats.closed, 'times', '0', false));
  } finally {
    session?.close();
    await hub.stop();
  }
  return rows;
}
