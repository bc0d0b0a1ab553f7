// Issue 13 item 7 (and the 1 / all-packs growth rows of item 10): a real agent
// as the unprivileged `sonde` user, enrolled on a real hub, with every built
// pack signed, installed and approved, run as agent/deploy/sonde.service runs
// it. Start → online is spawn to the hub's fleet view showing it not offline
// (polled every 10 ms). Memory counts the agent and every process under it,
// twice: just after start (every pack process up) and once the pack processes
// have stopped for being idle (sandbox limits.idleStopMs: 120 s by default, a
// few seconds here so the bench need not wait). Summed RSS counts the node
// binary once per process; summed PSS counts shared pages once, the tree's
// real share of memory, which is what the 50 MB goal is judged on.
import { row } from '../lib.mjs';
import { rawCaller } from '../mcp-raw.mjs';
import { builtPacks, MiB, prepareAgent, processTree, sleep, startHub, treePss, treeRss, waitOnline } from '../stack.mjs';

/** tools/list for the admin key as an assistant sees it with this agent's packs (issue 13 item 9, per pack count). */
async function toolsList(hub, key) {
  const { body } = await rawCaller(hub, key).post('tools/list', {});
  return { tools: body.result.tools.length, bytes: Buffer.byteLength(JSON.stringify(body.result)) };
}

async function measure(hub, key, packs, name, settleMs, idleStopMs) {
  const agent = await prepareAgent(hub, { name, packs, limits: { idleStopMs } });
  try {
    const t0 = performance.now();
    agent.start();
    await waitOnline(hub, key, name, 60_000, 10);
    const onlineMs = performance.now() - t0;
    await sleep(settleMs);
    const started = { rss: treeRss(agent.pid) / MiB, pss: treePss(agent.pid) / MiB, processes: processTree(agent.pid).length };
    await sleep(Math.max(0, idleStopMs + 1500 - settleMs));
    const idle = { rss: treeRss(agent.pid) / MiB, pss: treePss(agent.pid) / MiB, processes: processTree(agent.pid).length };
    return { onlineMs, started, idle, packs: agent.packNames.length, list: await toolsList(hub, key) };
  } finally {
    await agent.stop();
  }
}

export async function run({ smoke }) {
  const hub = await startHub();
  const rows = [];
  try {
    const key = await hub.createAdminKey();
    const all = builtPacks();
    const settle = smoke ? 500 : 3000;
    const idleStopMs = smoke ? 1000 : 5000;
    // Smoke runs only the all-packs agent: each enrolled agent costs several CLI processes.
    if (!smoke) {
      const one = await measure(hub, key, ['system'], 'bench-one-pack', settle, idleStopMs);
      rows.push(row('start → online, 1 pack (system)', one.onlineMs, 'ms'));
      rows.push(row(`memory after start, 1 pack (${one.started.processes} processes): PSS`, one.started.pss, 'MiB'));
      rows.push(row(`tools/list, 1 pack: ${one.list.tools} tools`, one.list.bytes, 'bytes'));
      rows.push(row('tools/list, 1 pack (bytes/4)', Math.round(one.list.bytes / 4), 'tokens'));
    }
    const many = await measure(hub, key, all, 'bench-all-packs', settle, idleStopMs);
    rows.push(row(`start → online, ${many.packs} packs`, many.onlineMs, 'ms', '≤ 300 ms (7 packs)', many.onlineMs <= 300));
    rows.push(row(`memory after start, ${many.packs} packs (${many.started.processes} processes): summed RSS`, many.started.rss, 'MiB'));
    rows.push(row(`memory after start, ${many.packs} packs (${many.started.processes} processes): PSS`, many.started.pss, 'MiB'));
    rows.push(row(`idle, pack processes stopped (${many.idle.processes} processes): summed RSS`, many.idle.rss, 'MiB'));
    rows.push(
      row(
        `idle, pack processes stopped (${many.idle.processes} processes): PSS`,
        many.idle.pss,
        'MiB',
        '≤ 50 MB total',
        many.idle.pss * MiB <= 50e6,
      ),
    );
    rows.push(row(`tools/list, ${many.packs} packs: ${many.list.tools} tools`, many.list.bytes, 'bytes'));
    rows.push(row(`tools/list, ${many.packs} packs (bytes/4)`, Math.round(many.list.bytes / 4), 'tokens'));
  } finally {
    await hub.stop();
  }
  return rows;
}
