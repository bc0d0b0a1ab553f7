// Issue 13 item 8: `sonde-hub serve` (the README's command) from spawn to the
// first 200 on /api/v1/health, on a fresh database (first start: migrations,
// scrypt, CA key) and again on the same database (a restart), and its RSS idle.
import { readFileSync } from 'node:fs';
import { row } from '../lib.mjs';
import { MiB, rssOf, sleep, startHub } from '../stack.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** CPU (user + system, all threads) the hub has used so far: steadier than wall-clock on a loaded machine. */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export async function run({ smoke }) {
  const runs = smoke ? 1 : 5;
  const fresh = [];
  const freshCpu = [];
  const rss = [];
  for (let i = 0; i < runs; i++) {
    const hub = await startHub();
    fresh.push(hub.startToHealthMs);
    freshCpu.push(cpuMsOf(hub.pid));
    await sleep(smoke ? 200 : 2000);
    rss.push(rssOf(hub.pid) / MiB);
    await hub.stop();
  }
  const restart = [];
  const restartCpu = [];
  if (smoke) {
    return [
      row('start → /health, new database', fresh[0], 'ms', '≤ 300 ms', fresh[0] <= 300),
      row('idle RSS (no agents, no calls)', rss[0], 'MiB', '≤ 80 MiB', rss[0] <= 80),
    ];
  }
  // Same database and secret: the start an operator sees after the first.
  const first = await startHub();
  const { env, dataDir } = first;
  await first.stop({ keep: true });
  for (let i = 0; i < runs; i++) {
    const hub = await startHub({ env, dataDir });
    restart.push(hub.startToHealthMs);
    restartCpu.push(cpuMsOf(hub.pid));
    await hub.stop({ keep: i < runs - 1 });
  }
  const startMs = median(restart);
  const idle = median(rss);
  return [
    row(`start → /health, new database (median of ${runs})`, median(fresh), 'ms', '≤ 300 ms', median(fresh) <= 300),
    row(`start → /health, existing database (median of ${runs})`, startMs, 'ms', '≤ 300 ms', startMs <= 300),
    row('hub CPU to first /health, new database (median)', median(freshCpu), 'ms'),
    row('hub CPU to first /health, existing database (median)', median(restartCpu), 'ms'),
    row('idle RSS (no agents, no calls)', idle, 'MiB', '≤ 80 MiB', idle <= 80),
  ];
}
