// Issue 13 item 7, the sandbox part: the same agent (system + no-op bench
// packs) with `sandbox.mode: "process"` (each pack in its own sandboxed
// process, effects brokered by the agent) against the default in-process mode:
// start → online, memory of the agent and all its children (summed RSS and PSS), and the per-call
// cost through MCP for the no-op probe and for system_disk_usage.
import { row, summarize, timeCalls } from '../lib.mjs';
import { callOk, MiB, mcpClient, prepareAgent, processTree, sleep, startHub, treePss, treeRss, waitOnline } from '../stack.mjs';

async function measure(hub, key, mode, n) {
  const agent = await prepareAgent(hub, { name: `bench-${mode}`, packs: ['system'], noop: true, sandbox: mode });
  try {
    const t0 = performance.now();
    agent.start();
    await waitOnline(hub, key, agent.name, 60_000, 10);
    const onlineMs = performance.now() - t0;
    const client = await mcpClient(hub, key);
    const target = { agent: agent.name };
    const noop = summarize(await timeCalls(n, () => callOk(client, 'bench_noop', target), 10));
    const df = summarize(await timeCalls(Math.ceil(n / 3), () => callOk(client, 'system_disk_usage', target), 5));
    await client.close();
    await sleep(1000);
    return { onlineMs, noop, df, rss: treeRss(agent.pid) / MiB, pss: treePss(agent.pid) / MiB, processes: processTree(agent.pid).length };
  } finally {
    await agent.stop();
  }
}

export async function run({ smoke }) {
  const n = smoke ? 10 : 600;
  const hub = await startHub();
  const rows = [];
  try {
    const key = await hub.createAdminKey();
    const boxed = await measure(hub, key, 'process', n);
    // Smoke checks the sandboxed agent only; the agent suite already starts an in-process one.
    if (smoke)
      return [
        row('process sandbox: no-op via MCP p50', boxed.noop.p50, 'ms'),
        row('process sandbox: PSS with children, pack processes up', boxed.pss, 'MiB'),
      ];
    const base = await measure(hub, key, 'in-process', n);
    for (const [label, m] of [
      ['in-process', base],
      ['process sandbox', boxed],
    ]) {
      rows.push(row(`${label}: start → online (2 packs)`, m.onlineMs, 'ms'));
      // Pack processes are still up here (idle stop is 120 s); the agent suite measures after the idle stop.
      rows.push(row(`${label}: agent + ${m.processes - 1} child processes, summed RSS`, m.rss, 'MiB'));
      rows.push(row(`${label}: agent + ${m.processes - 1} child processes, PSS`, m.pss, 'MiB'));
      rows.push(row(`${label}: no-op via MCP p50 / p99 (n=${n})`, `${m.noop.p50.toFixed(2)} / ${m.noop.p99.toFixed(2)}`, 'ms'));
      rows.push(row(`${label}: system_disk_usage via MCP p50 / p99`, `${m.df.p50.toFixed(2)} / ${m.df.p99.toFixed(2)}`, 'ms'));
    }
    rows.push(row('sandbox start-up cost (online, process − in-process)', boxed.onlineMs - base.onlineMs, 'ms'));
    rows.push(row('sandbox per-call overhead, no-op p50', boxed.noop.p50 - base.noop.p50, 'ms'));
    rows.push(row('sandbox per-call overhead, df p50', boxed.df.p50 - base.df.p50, 'ms'));
  } finally {
    await hub.stop();
  }
  return rows;
}
