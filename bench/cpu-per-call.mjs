// CPU per MCP call, process by process, for one or more builds run alternately in the same minutes (issue 26).
//
//   node bench/cpu-per-call.mjs [--tree DIR]... [--rounds 3] [--calls 2000] [--callers 1,8] [--target real|sim] [--prof DIR]
//
// Each round starts, for every tree in turn (the order alternates between rounds), that tree's own hub and either a
// real agent with the no-op bench pack in the process sandbox (`--target real`, the default: the agent as the probe
// suite runs it) or one simulated Ed25519 agent in this process (`--target sim`: the hub alone; `--target sim-rsa`: the
// same agent enrolled without a wire key, so every frame both ways is RSA-SHA256 signed, as in builds before the
// Ed25519 wire, which makes this the like-for-like comparison with them). After a warm-up it
// makes `--calls` tools/call bench_noop POSTs for each caller count and divides each process's user + system CPU over
// that window (/proc/<pid>/stat, every thread) by the number of calls: hub, agent, the agent's pack processes (with
// their bwrap helpers) and this process (the caller). Wall time on a shared host measures the queue for a core; CPU
// per call moves far less with the load, and the alternation puts both builds in the same minutes. What each process
// spends while no call runs (timers, heartbeats, the store's poll), measured over `--idle` seconds first, is taken off.
// Trees default to this one. A tree needs a build (`npm run build`) and bench/stack.mjs.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMsOf as cpuMsOrThrow, summarize } from './lib.mjs';
import { closedLoop, rawCaller } from './mcp-raw.mjs';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '3' },
    calls: { type: 'string', default: '2000' },
    callers: { type: 'string', default: '1,8' },
    target: { type: 'string', default: 'real' },
    prof: { type: 'string' },
    // Seconds of no calls measured first; each process's CPU per second then is subtracted from the call windows.
    idle: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const trees = (values.tree ?? [path.resolve(import.meta.dirname, '..')]).map((t) => path.resolve(t));
const rounds = Number(values.rounds);
const calls = Number(values.calls);
const callerCounts = values.callers.split(',').map(Number);
if (!['real', 'sim', 'sim-rsa'].includes(values.target)) throw new Error('--target is real, sim or sim-rsa');
const simulated = values.target !== 'real';

/** cpuMsOf, 0 for a process gone meanwhile (a pack process that exited between the listing and the read). */
function cpuMsOf(pid) {
  try {
    return cpuMsOrThrow(pid);
  } catch {
    return 0;
  }
}

const modules = new Map();
async function treeModules(tree) {
  if (!modules.has(tree)) {
    const load = (file) => import(pathToFileURL(path.join(tree, file)).href);
    modules.set(tree, {
      stack: await load('bench/stack.mjs'),
      sim: simulated ? await load('bench/sim-agent.mjs') : undefined,
      protocol: values.target === 'sim' ? await load('pack-sdk/dist/protocol/index.js') : undefined,
    });
  }
  return modules.get(tree);
}

/** Enrolls a simulated agent with an Ed25519 wire key (the default since issue 26) through the tree's own helpers. */
async function enrollEd25519(m, hub, adminKey, name) {
  const token = await fetch(`${hub.url}/api/v1/enrollment-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  }).then((r) => r.json());
  const [rsa] = await m.sim.keyPool(1);
  const csrPem = m.sim.csrFor(rsa, name);
  const wire = generateKeyPairSync('ed25519');
  const response = await fetch(`${hub.url}/api/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, csrPem, agentVersion: '0.1.0', wireKey: m.protocol.offerWireKey(wire.privateKey, csrPem) }),
  });
  if (response.status !== 201) throw new Error(`enroll: HTTP ${response.status} ${await response.text()}`);
  const body = await response.json();
  if (!body.wire) throw new Error('the hub did not certify the Ed25519 wire key');
  const hubKey = m.protocol.verifyWireKeyCert(body.wire.hubKey, new X509Certificate(body.caPem).publicKey);
  // connectSimAgent takes the hub's verify key as PEM (its `caPem`), as enrollment hands it out.
  const hubKeyPem = hubKey.export({ type: 'spki', format: 'pem' });
  return { agent: { id: body.agentId, name, apiKey: body.apiKey, keys: { privateKey: wire.privateKey } }, hubKey: hubKeyPem };
}

function descendants(stack, pid) {
  return stack.processTree(pid).filter((p) => p !== pid);
}

async function measureTree(tree, round) {
  const m = await treeModules(tree);
  const profDir = values.prof ? path.join(path.resolve(values.prof), `${path.basename(tree)}-r${round}`) : undefined;
  if (profDir) {
    mkdirSync(profDir, { recursive: true });
    chmodSync(profDir, 0o777);
  }
  const profArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const hub = await m.stack.startHub({ env: { SONDE_LOG_LEVEL: 'warn' }, nodeArgs: profArgs });
  let agent;
  let session;
  const out = [];
  try {
    const key = await hub.createAdminKey();
    let target;
    if (values.target === 'real') {
      agent = await m.stack.prepareAgent(hub, { name: 'cpu-bench', packs: [], noop: true });
      agent.start(profArgs);
      await m.stack.waitOnline(hub, key, agent.name, 60_000);
      target = { agent: agent.name };
    } else {
      const { agent: sim, hubKey } =
        values.target === 'sim'
          ? await enrollEd25519(m, hub, key, 'cpu-bench-sim')
          : await m.sim.keyPool(1).then(async ([rsa]) => {
              // No wire key offered: the tree's hub signs RSA-SHA256 and expects it (older trees know no other).
              const enrolled = await m.sim.enrollOverHttp(hub.url, key, 'cpu-bench-sim', rsa);
              return { agent: enrolled, hubKey: enrolled.caPem };
            });
      const bench = (await import(pathToFileURL(path.join(tree, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
      const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
      session = await m.sim.connectSimAgent({
        wsUrl: `${hub.url.replace('http', 'ws')}/ws/agent`,
        agent: sim,
        caPem: hubKey,
        manifests: [bench],
        stats,
      });
      target = { agent: sim.name };
    }
    const callers = Array.from({ length: Math.max(...callerCounts) }, () => rawCaller(hub, key));
    for (let tries = 0; ; tries++) {
      try {
        await callers[0].call('bench_noop', target);
        break;
      } catch (error) {
        if (tries > 500) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await closedLoop(4, 3_000, (c) => callers[c].call('bench_noop', target));
    // What each process spends with no call at all (timers, heartbeats, polls), per second: at a few dozen calls a
    // second on a loaded host that would otherwise be charged to the calls.
    const idleWindow = async () => {
      const packs = agent ? descendants(m.stack, agent.pid) : [];
      const read = () => ({
        hub: cpuMsOf(hub.pid),
        agent: agent ? cpuMsOf(agent.pid) : 0,
        packs: packs.reduce((sum, p) => sum + cpuMsOf(p), 0),
      });
      const a = read();
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
      const b = read();
      const s = (performance.now() - t0) / 1000;
      return { hub: (b.hub - a.hub) / s, agent: (b.agent - a.agent) / s, packs: (b.packs - a.packs) / s };
    };
    const idle = Number(values.idle) > 0 ? await idleWindow() : { hub: 0, agent: 0, packs: 0 };
    for (const n of callerCounts) {
      const packs = agent ? descendants(m.stack, agent.pid) : [];
      const before = {
        hub: cpuMsOf(hub.pid),
        agent: agent ? cpuMsOf(agent.pid) : 0,
        packs: packs.reduce((sum, p) => sum + cpuMsOf(p), 0),
        self: process.cpuUsage(),
        load: os.loadavg()[0],
      };
      let made = 0;
      const samples = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: n }, async (_, c) => {
          while (made < calls) {
            made++;
            const t0 = performance.now();
            await callers[c].call('bench_noop', target);
            samples.push(performance.now() - t0);
          }
        }),
      );
      const wallS = (performance.now() - started) / 1000;
      const self = process.cpuUsage(before.self);
      const perCall = (ms, who) => ((ms - (who ? idle[who] * wallS : 0)) * 1000) / samples.length;
      const latency = summarize(samples);
      out.push({
        tree,
        round,
        callers: n,
        calls: samples.length,
        hubUs: perCall(cpuMsOf(hub.pid) - before.hub, 'hub'),
        agentUs: agent ? perCall(cpuMsOf(agent.pid) - before.agent, 'agent') : undefined,
        packsUs: agent ? perCall(packs.reduce((sum, p) => sum + cpuMsOf(p), 0) - before.packs, 'packs') : undefined,
        idleMsPerS: idle,
        callerUs: perCall((self.user + self.system) / 1000),
        perSecond: samples.length / wallS,
        p50: latency.p50,
        p99: latency.p99,
        load: [before.load, os.loadavg()[0]],
      });
    }
  } finally {
    session?.close();
    await agent?.stop();
    await hub.stop();
  }
  return out;
}

const results = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? trees : [...trees].reverse();
  for (const tree of order) {
    const rows = await measureTree(tree, round);
    results.push(...rows);
    for (const r of rows)
      process.stderr.write(
        `round ${round + 1} ${path.basename(tree)} ${r.callers} caller(s) (idle ms/s hub ${r.idleMsPerS.hub.toFixed(1)}, agent ${r.idleMsPerS.agent.toFixed(1)}, packs ${r.idleMsPerS.packs.toFixed(1)}): hub ${r.hubUs.toFixed(0)} µs, agent ${r.agentUs?.toFixed(0) ?? '-'} µs, packs ${r.packsUs?.toFixed(0) ?? '-'} µs, caller ${r.callerUs.toFixed(0)} µs per call; ${r.perSecond.toFixed(0)} calls/s, p50 ${r.p50.toFixed(2)} ms (load ${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)})\n`,
      );
  }
}

if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  const fmt = (xs) => xs.map((x) => (x === undefined ? '-' : x.toFixed(0))).join(' / ');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  console.log(
    `target ${values.target}, ${calls} calls per caller count, ${rounds} rounds; µs of CPU per call (every round, then the median)`,
  );
  for (const n of callerCounts) {
    for (const tree of trees) {
      const rows = results.filter((r) => r.tree === tree && r.callers === n);
      const line = ['hubUs', 'agentUs', 'packsUs', 'callerUs']
        .filter((k) => rows[0][k] !== undefined)
        .map((k) => `${k.replace('Us', '')} ${fmt(rows.map((r) => r[k]))} (${median(rows.map((r) => r[k])).toFixed(0)})`);
      console.log(`${n} caller(s)  ${tree}: ${line.join('; ')}; calls/s ${fmt(rows.map((r) => r.perSecond))}`);
    }
  }
}
