// Quick measurement (not a test): start → registered time and idle RSS of a real
// agent process (as the sonde user when run as root) against the test hub.
// Run: npx tsx agent/scripts/measure.ts [runs]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { agentHome, agentUser, ensureBuilt, prepareFixturePack, removeDir, runCli, spawnAgent } from '../test/support/cli.js';
import { startTestHub } from '../test/support/hub-double.js';

function rssKiB(pid: number): number {
  const own = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  let children = 0;
  try {
    children = execFileSync('ps', ['-o', 'rss=', '--ppid', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .reduce((sum, line) => sum + Number(line.trim()), 0);
  } catch {
    // no children
  }
  return own + children;
}

const runs = Number(process.argv[2] ?? 5);
ensureBuilt();
const user = agentUser();
const hub = await startTestHub({ heartbeatIntervalMs: 15_000 });
const home = agentHome(user);
const fixture = await prepareFixturePack(user);
await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'measure'], { home, user });
await runCli(['packs', 'install', fixture], { home, user });
await runCli(['packs', 'approve', 'fixture'], { home, user });
const times: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  const before = hub.connections.filter((c) => c.registered).length;
  const started = performance.now();
  const agent = spawnAgent({ home, user });
  await hub.waitForRegistered(before + 1, 30_000);
  times.push(performance.now() - started);
  await hub.probe('fixture.echo', { text: 'warm' });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  rss.push(rssKiB(agent.child.pid!));
  await agent.stop();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  JSON.stringify({
    node: process.version,
    runs,
    startToRegisteredMs: { median: Math.round(median(times)), all: times.map(Math.round) },
    idleRssMiB: { median: +(median(rss) / 1024).toFixed(1), all: rss.map((k) => +(k / 1024).toFixed(1)) },
  }),
);
await hub.close();
removeDir(home);
removeDir(path.dirname(fixture));
