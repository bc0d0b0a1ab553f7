// Issue 13 items 1, 2 and 9: a real hub and a real unprivileged agent (signing
// on, sandbox as the agent ships it). MCP tools/call → hub → agent → probe →
// result, timed with the official MCP SDK client, over (a) the no-op bench
// probe and (b) system.disk.usage, which runs `df -P -k` — compared with
// running that same `df` directly. Then 8 concurrent callers for throughput,
// and the size of tools/list for an admin key.
import { execFile } from 'node:child_process';
import { summarize, timeCalls, row } from '../lib.mjs';
import { closedLoop, rawCaller } from '../mcp-raw.mjs';
import { callOk, mcpClient, prepareAgent, startHub, waitOnline } from '../stack.mjs';

const bareDf = () =>
  new Promise((resolve, reject) => execFile('df', ['-P', '-k'], (error, stdout) => (error ? reject(error) : resolve(stdout))));

export async function run({ smoke }) {
  const n = smoke ? { noop: 30, df: 10, seconds: 0.5 } : { noop: 3000, df: 1000, seconds: 10 };
  const hub = await startHub();
  const agent = await prepareAgent(hub, { packs: ['system'], noop: true });
  const rows = [];
  try {
    const key = await hub.createAdminKey();
    agent.start();
    await waitOnline(hub, key, agent.name);
    const target = { agent: agent.name };

    // 9: what an assistant pays to learn the tools.
    const raw = rawCaller(hub, key);
    const { body: listed } = await raw.post('tools/list', {});
    const bytes = Buffer.byteLength(JSON.stringify(listed.result));
    rows.push(row('tools/list (admin key, system + bench packs) tools', listed.result.tools.length, 'tools'));
    rows.push(row('tools/list size', bytes, 'bytes'));
    rows.push(row('tools/list size (bytes/4)', Math.round(bytes / 4), 'tokens'));

    // 1: sequential latency through the official SDK client.
    const client = await mcpClient(hub, key);
    const noop = summarize(await timeCalls(n.noop, () => callOk(client, 'bench_noop', target), smoke ? 5 : 200));
    rows.push(row(`no-op probe via MCP p50 (n=${n.noop})`, noop.p50, 'ms', '≤ 1.5 ms overhead', noop.p50 <= 1.5));
    rows.push(row(`no-op probe via MCP p99 (n=${n.noop})`, noop.p99, 'ms', '≤ 6 ms overhead', noop.p99 <= 6));
    const bare = summarize(await timeCalls(n.df, bareDf, smoke ? 2 : 50));
    const df = summarize(await timeCalls(n.df, () => callOk(client, 'system_disk_usage', target), smoke ? 2 : 50));
    rows.push(row(`bare df -P -k p50 (n=${n.df})`, bare.p50, 'ms'));
    rows.push(row(`bare df -P -k p99`, bare.p99, 'ms'));
    rows.push(row(`system_disk_usage via MCP p50`, df.p50, 'ms'));
    rows.push(row(`system_disk_usage via MCP p99`, df.p99, 'ms'));
    rows.push(row('df overhead over bare p50', df.p50 - bare.p50, 'ms', '≤ 1.5 ms', df.p50 - bare.p50 <= 1.5));
    rows.push(row('df overhead over bare p99', df.p99 - bare.p99, 'ms', '≤ 6 ms', df.p99 - bare.p99 <= 6));
    await client.close();

    // 2: throughput with 8 concurrent callers (raw JSON-RPC POSTs, keep-alive).
    const callers = Array.from({ length: 8 }, () => rawCaller(hub, key));
    const ms = n.seconds * 1000;
    const noopLoad = await closedLoop(8, ms, (c) => callers[c].call('bench_noop', target));
    rows.push(row('no-op calls/s, 8 callers', noopLoad.perSecond, 'calls/s', '≥ 3,000', noopLoad.perSecond >= 3000));
    rows.push(row('no-op p99 under 8 callers', summarize(noopLoad.samples).p99, 'ms'));
    // The same no-op calls on the stateless 2026-07-28 revision (SDK v2, a server instance per request).
    const modern = Array.from({ length: 8 }, () => rawCaller(hub, key, { revision: '2026-07-28' }));
    const modernLoad = await closedLoop(8, ms, (c) => modern[c].call('bench_noop', target));
    rows.push(row('no-op calls/s, 8 callers, MCP 2026-07-28', modernLoad.perSecond, 'calls/s', '≥ 3,000', modernLoad.perSecond >= 3000));
    rows.push(row('no-op p99 under 8 callers, MCP 2026-07-28', summarize(modernLoad.samples).p99, 'ms'));
    const dfLoad = await closedLoop(8, ms, (c) => callers[c].call('system_disk_usage', target));
    rows.push(row('df calls/s, 8 callers', dfLoad.perSecond, 'calls/s', '≥ 600', dfLoad.perSecond >= 600));
    const bareLoad = await closedLoop(8, ms, () => bareDf());
    rows.push(row('bare df runs/s, 8 callers (ceiling)', bareLoad.perSecond, 'runs/s'));
    if (noopLoad.errors + modernLoad.errors + dfLoad.errors > 0)
      rows.push(row('failed calls under load', noopLoad.errors + modernLoad.errors + dfLoad.errors, 'calls', '0', false));
  } finally {
    await agent.stop();
    await hub.stop();
  }
  return rows;
}
