// Issue 13 item 7 (and the 1 / all-packs growth rows of item 10): a real agent
// as the unprivileged `sonde` user, enrolled on a real hub, with every built
// pack installed and approved. Start → online is spawn to the hub's fleet view
// showing it not offline (polled every 10 ms); idle RSS counts the agent and
// every process under it.
import { row } from '../lib.mjs';
import { builtPacks, MiB, prepareAgent, processTree, sleep, startHub, treeRss, waitOnline } from '../stack.mjs';

async function measure(hub, key, packs, name, settleMs) {
  const agent = await prepareAgent(hub, { name, packs });
  try {
    const t0 = performance.now();
    agent.start();
    await waitOnline(hub, key, name, 60_000, 10);
    const onlineMs = performance.now() - t0;
    await sleep(settleMs);
    return { onlineMs, rss: treeRss(agent.pid) / MiB, processes: processTree(agent.pid).length, packs: agent.packNames.length };
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
    const one = await measure(hub, key, ['system'], 'bench-one-pack', settle);
    rows.push(row('start → online, 1 pack (system)', one.onlineMs, 'ms'));
    rows.push(row('idle RSS incl. children, 1 pack', one.rss, 'MiB'));
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
  } finally {
    await hub.stop();
  }
  return rows;
}
