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
// Growth (item 10): the same with 1, all (7) and 20 packs; the 13 extra are
// copies of the no-op bench pack under other names, signed by a second bench
// key that the agent trusts, installed and approved like the others.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addTrustedKey, newKeyFile, signedPackCopy } from '@sonde/registry';
import { row } from '../lib.mjs';
import { rawCaller } from '../mcp-raw.mjs';
import { agentUser, builtPacks, MiB, prepareAgent, processTree, REPO, sleep, startHub, treePss, treeRss, waitOnline } from '../stack.mjs';

const NOOP_PACK = path.join(REPO, 'bench/fixtures/noop-pack');
const AGENT_CLI = path.join(REPO, 'agent/dist/cli.js');

/** `count` signed copies of the no-op bench pack named grow-01, grow-02, …, in a folder the agent user can read. */
async function growthPacks(count, signingKey) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-growth-'));
  const script = `const m = await import(${JSON.stringify(path.join(NOOP_PACK, 'index.js'))}); process.stdout.write(JSON.stringify(m.default.manifest));`;
  const manifest = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' }));
  const pkg = JSON.parse(readFileSync(path.join(NOOP_PACK, 'package.json'), 'utf8'));
  const code = readFileSync(path.join(NOOP_PACK, 'index.js'), 'utf8');
  const names = [];
  const dirs = [];
  for (let i = 1; i <= count; i++) {
    const name = `grow-${String(i).padStart(2, '0')}`;
    const source = path.join(root, 'src', name);
    cpSync(NOOP_PACK, source, { recursive: true });
    // The code names itself as its manifest does.
    writeFileSync(path.join(source, 'index.js'), code.replace("name: 'bench'", `name: '${name}'`));
    writeFileSync(path.join(source, 'sonde-pack.json'), `${JSON.stringify({ ...manifest, name }, null, 2)}\n`);
    const files = ['index.js', 'sonde-pack.json'];
    writeFileSync(path.join(source, 'package.json'), `${JSON.stringify({ ...pkg, name: `@sonde/pack-${name}`, files }, null, 2)}\n`);
    dirs.push((await signedPackCopy(source, signingKey, path.join(root, 'signed', name))).dir);
    names.push(name);
  }
  chmodSync(root, 0o755);
  return { root, names, dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Trusts the growth key in the agent's home, then installs and approves the packs as the agent user. */
async function addGrowthPacks(agent, count) {
  const signingKey = newKeyFile({ publisher: 'sonde-bench-growth' });
  const extra = await growthPacks(count, signingKey);
  const user = agentUser();
  const trustFile = path.join(agent.home, 'trust.json');
  writeFileSync(
    trustFile,
    JSON.stringify(addTrustedKey(JSON.parse(readFileSync(trustFile, 'utf8')), signingKey, { allow: ['*'] }), null, 2),
  );
  if (user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, trustFile, extra.root]);
  // As prepareAgent runs the agent CLI (bench/stack.mjs).
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: agent.home,
    SONDE_HOME: agent.home,
    NODE_OPTIONS: '--max-semi-space-size=1',
  };
  const cli = (args) =>
    execFileSync(process.execPath, [AGENT_CLI, ...args, '--json'], { env, cwd: agent.home, uid: user?.uid, gid: user?.gid });
  try {
    cli(['packs', 'install', ...extra.dirs]);
    cli(['packs', 'approve', ...extra.names]);
  } finally {
    extra.cleanup();
  }
  return extra.names.length;
}

/** tools/list for the admin key as an assistant sees it with this agent's packs (issue 13 item 9, per pack count). */
async function toolsList(hub, key) {
  const { body } = await rawCaller(hub, key).post('tools/list', {});
  return { tools: body.result.tools.length, bytes: Buffer.byteLength(JSON.stringify(body.result)) };
}

async function measure(hub, key, packs, name, settleMs, idleStopMs, growth = 0) {
  const agent = await prepareAgent(hub, { name, packs, limits: { idleStopMs } });
  try {
    const extra = growth > 0 ? await addGrowthPacks(agent, growth) : 0;
    const t0 = performance.now();
    agent.start();
    await waitOnline(hub, key, name, 60_000, 10);
    const onlineMs = performance.now() - t0;
    await sleep(settleMs);
    const started = { rss: treeRss(agent.pid) / MiB, pss: treePss(agent.pid) / MiB, processes: processTree(agent.pid).length };
    // Pack processes start after registration and may take seconds on a loaded host: wait for their idle stop.
    const deadline = performance.now() + idleStopMs + 30_000;
    while (processTree(agent.pid).length > 1 && performance.now() < deadline) await sleep(250);
    await sleep(500);
    const idle = { rss: treeRss(agent.pid) / MiB, pss: treePss(agent.pid) / MiB, processes: processTree(agent.pid).length };
    return { onlineMs, started, idle, packs: agent.packNames.length + extra, list: await toolsList(hub, key) };
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
      rows.push(row(`idle, 1 pack, pack process stopped (${one.idle.processes} processes): PSS`, one.idle.pss, 'MiB'));
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
    if (!smoke) {
      const growth = 20 - all.length;
      const twenty = await measure(hub, key, all, 'bench-twenty-packs', settle, idleStopMs, growth);
      rows.push(row(`start → online, ${twenty.packs} packs (${growth} no-op copies)`, twenty.onlineMs, 'ms'));
      rows.push(row(`memory after start, ${twenty.packs} packs (${twenty.started.processes} processes): PSS`, twenty.started.pss, 'MiB'));
      rows.push(
        row(`idle, ${twenty.packs} packs, pack processes stopped (${twenty.idle.processes} processes): PSS`, twenty.idle.pss, 'MiB'),
      );
    }
  } finally {
    await hub.stop();
  }
  return rows;
}
