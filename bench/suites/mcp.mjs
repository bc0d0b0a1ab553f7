// Issue 18: MCP tools/call throughput of one hub, the figure its asynchronous store seam and plugin composition
// must not lower by more than 5 %. A real hub and a simulated agent that answers at once (bench/sim-agent.mjs, the real
// wire protocol, every frame signed and verified), so the load is the hub's: the closed loop of 1, 8 and 32 callers
// POSTs tools/call bench_noop (plain JSON-RPC, no MCP session) for a fixed time each. Hub CPU per call comes from
// /proc (user + system of the hub process over the window), the steadier figure on a shared host.
//
// The simulated agent enrols as a real agent does since issue 26: with an Ed25519 wire key, certified by the hub,
// so the rows without a label measure the default wire path. The rows labelled "RSA wire" measure an agent enrolled
// with RSA-SHA256 on the wire (a `SONDE_WIRE_SIGNATURE=rsa-sha256` deployment, or an agent enrolled before the change):
// every hub → agent frame then carries an RSA-2048 signature (~0.3 ms of the hub's CPU each).
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
  const sessions = [];
  try {
    const key = await hub.createAdminKey();
    const [rsaKeys] = await keyPool(1);
    const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
    const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
    // Offering no wire key is what an agent from before Ed25519 does: the hub then signs its frames with RSA-SHA256.
    // The default, as `sonde enroll` does it: an Ed25519 wire key offered with the CSR, certified by the hub, whose own
    // wire key is checked against the CA (sim-agent.mjs enrollOverHttp).
    const agents = [
      { label: '', agent: await enrollOverHttp(hub.url, key, 'mcp-bench-agent', rsaKeys, { wire: 'ed25519' }), counts: [1, 8, 32] },
      { label: ', RSA wire', agent: await enrollOverHttp(hub.url, key, 'mcp-bench-agent-rsa', rsaKeys), counts: [1, 8] },
    ];
    for (const { agent } of agents) {
      sessions.push(
        await connectSimAgent({
          wsUrl: hub.url.replace('http', 'ws') + '/ws/agent',
          agent,
          caPem: agent.caPem,
          hubKeyPem: agent.hubKeyPem,
          manifests: [bench],
          stats,
        }),
      );
    }
    const callers = Array.from({ length: 32 }, () => rawCaller(hub, key));
    for (const { label, agent, counts } of agents) {
      const args = { agent: agent.name };
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
      for (const n of counts) {
        const who = `${n} caller${n === 1 ? '' : 's'}`;
        const cpu0 = cpuMsOf(hub.pid);
        const load = await closedLoop(n, seconds * 1000, (c) => callers[c].call('bench_noop', args));
        const cpuMs = cpuMsOf(hub.pid) - cpu0;
        const latency = summarize(load.samples);
        rows.push(row(`tools/call no-op calls/s, ${who} (simulated agent${label})`, load.perSecond, 'calls/s'));
        rows.push(row(`tools/call no-op p50, ${who}${label}`, latency.p50, 'ms'));
        rows.push(row(`tools/call no-op p99, ${who}${label}`, latency.p99, 'ms'));
        rows.push(row(`hub CPU per tools/call, ${who}${label}`, (cpuMs * 1000) / Math.max(1, load.calls), 'µs'));
        if (load.errors) rows.push(row(`failed calls, ${who}${label}`, load.errors, 'calls', '0', false));
      }
    }
    if (stats.rejects || stats.closed)
      rows.push(row('simulated agent rejected or closed', stats.rejects + stats.closed, 'times', '0', false));
    if (stats.badFrames) rows.push(row('hub frames the simulated agent could not verify', stats.badFrames, 'frames', '0', false));
  } finally {
    for (const session of sessions) session.close();
    await hub.stop();
  }
  return rows;
}
