// Issue 13 item 7 (and the 1 / all-packs growth rows of item 10): a real agent
// as the unprivileged `sonde` user, enrolled on a real hub, with every built
// pack installed and approved. Start → online is spawn to the hub's fleet view
// showing it not offline (polled every 10 ms); idle RSS counts the agent and
// every process under it.
import { row } from '../lib.mjs';
import { rawCaller } from '../mcp-raw.mjs';
import { builtPacks, MiB, prepareAgent, processTree, sleep, startHub, treeRss, waitOnline } from '../stack.mjs';

/** tools/list for the admin key as an assistant sees it with this agent's packs (issue 13 item 9, per pack count). */
async function toolsList(hub, key) {
  const { body } = await rawCaller(hub, key).post('tools/list', {});
  return { tools: body.result.tools.length, bytes: Buffer.byteLength(JSON.stringify(body.result)) };
}

async function measure(hub, key, packs, name, settleMs) {
  const agent = await prepareAgent(hub, { name, packs });
  try {
    const t0 = performance.now();
    agent.start();
    await waitOnline(hub, key, name, 60_000, 10);
    const onlineMs = performance.now() - t0;
    await sleep(settleMs);
    const rss = treeRss(agent.pid) / MiB;
    return { onlineMs, rss, processes: processTree(agent.pid).length, packs: agent.packNames.length, list: await toolsList(hub, key) };
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
    // Smoke runs only the all-packs agent: each enrolled agent costs several CLI processes.
    if (!smoke) {
      const one = await measure(hub, key, ['system'], 'bench-one-pack', settle);
      rows.push(row('start → online, 1 pack (system)', one.onlineMs, 'ms'));
      rows.push(row('idle RSS incl. children, 1 pack', one.rss, 'MiB'));
      rows.push(row(`tools/list, 1 pack: ${one.list.tools} tools`, one.list.bytes, 'bytes'));
      rows.push(row('tools/list, 1 pack (bytes/4)', Math.round(one.list.bytes / 4), 'tokens'));
    }
    const many = await measure(hub, key, all, 'bench-all-packs', settle);
    rows.push(row(`start → online, ${many.packs} packs`, many.onlineMs, 'ms', '≤ 300 ms (7 packs)', many.onlineMs <= 300));
    rows.push(
      row(
        `idle RSS incl. children, ${many.packs} packs (${many.processes} processes)`,
        many.rss,
        'MiB',
        '≤ 50 MB total',
        many.rss * MiB <= 50e6,
      ),
    );
    rows.push(row(`tools/list, ${many.packs} packs: ${many.list.tools} tools`, many.list.bytes, 'bytes'));
    rows.push(row(`tools/list, ${many.packs} packs (bytes/4)`, Math.round(many.list.bytes / 4), 'tokens'));
  } finally {
    await hub.stop();
  }
  return rows;
}
