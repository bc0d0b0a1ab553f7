// Issue 25: a fleet reconnecting after a hub restart. A real `sonde-hub serve` on a temp SQLite file, N simulated
// agents (bench/sim-agent.mjs: real wire protocol, every frame signed and verified) that reconnect as the real agent
// does — the agent package's own `Backoff` (full jitter, 1 s → 60 s, reset on `hub.registered`), one attempt per
// close. Once all N are registered the hub is SIGKILLed and a new hub started at once on the same database, secret and
// port. Measured from the kill: reconnect attempts per second and per 100 ms (peak against mean), the time until 50 %,
// 99 % and 100 % are registered again, refused and failed attempts by kind, and the new hub's RSS and event-loop delay
// (bench/fixtures/eld-probe.mjs, preloaded) during the herd.
//
//   node bench/herd.mjs                 # 10,000 agents (SONDE_BENCH_HERD_AGENTS or --agents N)
//   node bench/herd.mjs --smoke         # 300 agents
//   node bench/herd.mjs --json          # the report as JSON instead of the table (always written to bench/results/herd-latest.json)
//   node bench/herd.mjs --admission-max N   # SONDE_AGENT_ADMISSION_MAX for both hubs (0: no limit, the behaviour before
//                                           # issue 25; unset: the hub's default)
//   node bench/herd.mjs --backlog N     # SONDE_LISTEN_BACKLOG for both hubs (unset: the hub's default, 4096; 511 was
//                                       # Node's default before; the kernel caps it at net.core.somaxconn)
//   node bench/herd.mjs --no-diag       # no SONDE_DIAG_ADDR (by default both hubs get a diagnostics listener on a free
//                                       # loopback port, and /api/v1/health is polled there as well as on the main port)
//   SONDE_BENCH_HERD_RAMP_S=300             # bound the first connection of the fleet (default 600 s); on a loaded host
//                                           # the herd is then measured with whoever registered
//
// Refused upgrades (503 + Retry-After from the admission limit) are retried as the agent does: `Backoff.afterRefusal`
// from the agent's build; the upgrade and registration timeouts are the agent's exported constants.
// Each simulated agent has an agent key of its own, as enrolled agents do, and they share 8 source addresses
// (127.0.0.1-8), so the hub's fair share per caller (2 unregistered places per key or certificate, 429 beyond) must
// refuse none of them: the report counts the 429s the new hub sent.
import { fork } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectSimAgent, enrollOverHttp, keyPool, seedAgents } from './sim-agent.mjs';
import { MiB, REPO, rssOf, sleep, startHub } from './stack.mjs';

// The agent's real backoff, imported from the agent package's build (agent/src/runtime/backoff.ts).
const { Backoff } = await import(pathToFileURL(path.join(REPO, 'agent/dist/index.js')).href);
/** The agent's defaults (agent/src/config/schema.ts: `reconnect`), which the security model fixes. */
const RECONNECT = { initialMs: 1000, maxMs: 60_000 };

/** What one failed attempt was, from the error connectSimAgent rejects with. */
function failureKind(message) {
  if (/ECONNREFUSED/.test(message)) return 'tcp refused (hub down)';
  const status = /Unexpected server response: (\d+)/.exec(message);
  if (status) return `HTTP ${status[1]}`;
  if (/ECONNRESET|socket hang up/.test(message)) return 'reset during upgrade';
  if (/not registered within/.test(message)) return 'registration timeout (30 s silence)';
  if (/handshake has timed out/.test(message)) return 'upgrade timeout (15 s)';
  // The hub's register window (hub/src/gateway/admission.ts REGISTER_FRAME_MS): hub.hello not answered in time.
  if (/closed 4408/.test(message)) return 'closed 4408 (agent.register not in time)';
  if (/closed/.test(message)) return 'closed before hub.registered';
  return message.slice(0, 60);
}

/** The child side: a share of the fleet, each agent a reconnect loop as agent/src/runtime/connection.ts runs it. */
function serveChild() {
  let options;
  let keys;
  let agents = [];
  let recording = false;
  let stopped = false;
  const attempts = [];
  const failures = {};
  const retryAfters = [];
  const stats = { heartbeats: 0, probes: 0, rejects: 0, closed: 0, badFrames: 0 };
  let online = 0;

  const makeAgent = (agent, index) => {
    const backoff = new Backoff(RECONNECT.initialMs, RECONNECT.maxMs);
    const self = { registeredAt: undefined, session: undefined, firstRegistered: undefined };
    let resolveFirst;
    self.firstRegistered = new Promise((resolve) => (resolveFirst = resolve));
    // As connection.ts: a refusal with Retry-After waits at least that (plus jitter), any other failure the backoff.
    const schedule = (retryAfterMs) => {
      if (!stopped) setTimeout(attempt, retryAfterMs !== undefined ? backoff.afterRefusal(retryAfterMs) : backoff.next());
    };
    const attempt = () => {
      if (stopped) return;
      if (recording) attempts.push(Date.now());
      connectSimAgent({ ...options, agent, localAddress: `127.0.0.${1 + (index % 8)}` }).then(
        (session) => {
          online += 1;
          backoff.reset();
          if (recording && self.registeredAt === undefined) self.registeredAt = Date.now();
          self.session = session;
          resolveFirst();
          session.ws.on('error', () => undefined);
          session.ws.once('close', () => {
            online -= 1;
            self.session = undefined;
            session.close();
            schedule(undefined);
          });
        },
        (error) => {
          if (recording) {
            const kind = failureKind(error.message);
            failures[kind] = (failures[kind] ?? 0) + 1;
            if (error.retryAfterMs !== undefined) retryAfters.push(error.retryAfterMs);
          }
          schedule(error.retryAfterMs);
        },
      );
    };
    self.start = attempt;
    return self;
  };

  process.on('message', async (message) => {
    const reply = (answer) => process.send({ ...answer, id: message.id });
    switch (message.type) {
      case 'init':
        keys = message.pems.map((pem) => ({ privateKey: createPrivateKey(pem) }));
        options = { wsUrl: message.wsUrl, caPem: message.caPem, manifests: message.manifests, stats };
        agents = message.agents.map((a, i) => makeAgent({ ...a, keys: keys[a.key] }, a.index ?? i));
        return reply({});
      case 'ramp': {
        // The first connection of each agent at a bounded pace (a fleet coming up, not the herd under test).
        let next = 0;
        const deadline = Date.now() + message.budgetMs;
        const workers = Promise.all(
          Array.from({ length: message.parallel }, async () => {
            while (next < agents.length && Date.now() < deadline) {
              const agent = agents[next++];
              agent.start();
              await agent.firstRegistered;
            }
          }),
        );
        // On a loaded host the ramp may not finish: the herd is then measured with whoever is online.
        await Promise.race([workers, sleep(Math.max(0, deadline - Date.now()))]);
        return reply({ online });
      }
      case 'mark':
        recording = true;
        return reply({});
      case 'online':
        return reply({ online });
      case 'report':
        return reply({ attempts, failures, retryAfters, registeredAt: agents.map((a) => a.registeredAt ?? null), stats });
      case 'close':
        stopped = true;
        for (const agent of agents) agent.session?.close();
        reply({});
        return process.disconnect();
    }
  });
}

function child(file) {
  const proc = fork(file, ['--herd-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  return {
    proc,
    ask: (message) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (answer) => {
          if (answer.id !== id) return;
          proc.off('message', onMessage);
          proc.off('exit', onExit);
          resolve(answer);
        };
        const onExit = (code) => reject(new Error(`herd child exited with ${code}`));
        proc.on('message', onMessage);
        proc.once('exit', onExit);
        proc.send({ ...message, id });
      }),
  };
}

/**
 * The kernel's listen-queue counters (TcpExt ListenOverflows / ListenDrops, /proc/net/netstat): a SYN or a completed
 * handshake dropped because an accept queue was full. Host-wide, so another process's overflow would count too.
 */
function listenDrops() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = lines[header].split(/\s+/);
    const values = lines[header + 1].split(/\s+/);
    const read = (name) => Number(values[names.indexOf(name)]);
    return { overflows: read('ListenOverflows'), drops: read('ListenDrops') };
  } catch {
    return { overflows: NaN, drops: NaN };
  }
}

/**
 * /api/v1/health polled through the herd, each time on a new connection (as a load balancer's check would be, so it
 * waits in the same accept queue as the agents): latency of every poll, and the polls that got no 200 within 5 s.
 */
function pollHealth(url) {
  const latencies = [];
  const failures = [];
  let stopped = false;
  const once = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = get(`${url}/api/v1/health`, { agent: false, timeout: 5_000 }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode, ms: performance.now() - started }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (error) => resolve({ status: error.message, ms: performance.now() - started }));
    });
  const loop = (async () => {
    while (!stopped) {
      const { status, ms } = await once();
      latencies.push(ms);
      if (status !== 200) failures.push(String(status));
      await sleep(200);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        polls: sorted.length,
        failed: failures.length,
        failures: [...new Set(failures)].slice(0, 5),
        p50Ms: pct(sorted, 50),
        p99Ms: pct(sorted, 99),
        maxMs: sorted.at(-1),
        over1s: sorted.filter((ms) => ms > 1000).length,
      };
    },
  };
}

/** A loopback port free now, for the diagnostics listener both hubs open in turn. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** net.core.somaxconn: the kernel's cap on SONDE_LISTEN_BACKLOG. */
function somaxconn() {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return null;
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/** Counts per `binMs` window from `from` to `to`. */
function bins(times, from, to, binMs) {
  const counts = new Array(Math.max(1, Math.ceil((to - from) / binMs))).fill(0);
  for (const t of times) {
    const i = Math.floor((t - from) / binMs);
    if (i >= 0 && i < counts.length) counts[i] += 1;
  }
  return counts;
}

export async function runHerd({
  agents: n,
  processes = 2,
  parallel = 100,
  budgetMs = 300_000,
  rampBudgetMs = 600_000,
  admissionMax,
  backlog,
  diag = true,
  log = () => undefined,
}) {
  const diagPort = diag ? await freePort() : undefined;
  const admissionEnv = {
    ...(admissionMax === undefined ? {} : { SONDE_AGENT_ADMISSION_MAX: String(admissionMax) }),
    ...(backlog === undefined ? {} : { SONDE_LISTEN_BACKLOG: String(backlog) }),
    ...(diagPort === undefined ? {} : { SONDE_DIAG_ADDR: `127.0.0.1:${diagPort}` }),
  };
  const [keys] = [await keyPool(8)];
  const dataDir = undefined;
  const eldFile = path.join(os.tmpdir(), `sonde-bench-herd-eld-${process.pid}.jsonl`);
  const eldProbe = ['--import', pathToFileURL(path.join(REPO, 'bench/fixtures/eld-probe.mjs')).href];
  let hub = await startHub({ env: { SONDE_LOG_LEVEL: 'error', ...admissionEnv }, dataDir });
  const children = [];
  const loadBefore = os.loadavg()[0];
  try {
    const key = await hub.createAdminKey();
    const enrolled = await enrollOverHttp(hub.url, key, 'herd-enrolled', keys[0]);
    const seeded = await seedAgents(hub.env.SONDE_DB_PATH, n - 1, keys, 'herd');
    const fleet = [enrolled, ...seeded];
    const keyIndex = new Map(keys.map((pair, i) => [pair.publicKeyPem, i]));
    const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
    const wsUrl = `${hub.url.replace('http', 'ws')}/ws/agent`;
    for (let c = 0; c < processes; c++) children.push(child(fileURLToPath(import.meta.url)));
    await Promise.all(
      children.map((ch, c) =>
        ch.ask({
          type: 'init',
          pems: keys.map((pair) => pair.privateKeyPem),
          wsUrl,
          caPem: enrolled.caPem,
          manifests: [bench],
          agents: fleet
            .map(({ id, name, apiKey, keys: pair }, index) => ({ id, name, apiKey, key: keyIndex.get(pair.publicKeyPem), index }))
            .filter((_, i) => i % processes === c),
        }),
      ),
    );
    let t0 = performance.now();
    const ramp = await Promise.all(
      children.map((ch) => ch.ask({ type: 'ramp', parallel: Math.ceil(parallel / processes), budgetMs: rampBudgetMs })),
    );
    const rampMs = performance.now() - t0;
    const ramped = ramp.reduce((s, a) => s + a.online, 0);
    log(`ramp: ${ramped}/${n} registered in ${(rampMs / 1000).toFixed(1)} s`);
    await sleep(3_000);
    const rssSteady = rssOf(hub.pid);
    await Promise.all(children.map((ch) => ch.ask({ type: 'mark' })));

    // The restart: SIGKILL, then a new hub on the same database, secret and port, started at once.
    const port = new URL(hub.url).port;
    const dropsBefore = listenDrops();
    const killAt = Date.now();
    hub.child.kill('SIGKILL');
    await new Promise((resolve) => (hub.child.exitCode !== null || hub.child.signalCode ? resolve() : hub.child.once('exit', resolve)));
    const old = hub;
    writeFileSync(eldFile, '');
    hub = await startHub({
      env: {
        SONDE_LOG_LEVEL: 'error',
        SONDE_SECRET: old.env.SONDE_SECRET,
        SONDE_ADMIN_PASSWORD: old.env.SONDE_ADMIN_PASSWORD,
        SONDE_PORT: port,
        SONDE_BENCH_ELD_FILE: eldFile,
        ...admissionEnv,
      },
      nodeArgs: eldProbe,
      dataDir: old.dataDir,
    });
    const healthAt = Date.now();
    log(`new hub healthy ${healthAt - killAt} ms after the kill`);
    const health = pollHealth(hub.url);
    // The same check on the diagnostics listener: its own socket and accept queue, which no agent joins.
    const diagHealth = diagPort === undefined ? undefined : pollHealth(`http://127.0.0.1:${diagPort}`);
    const rss = [];
    let online = 0;
    let allBackAt;
    for (;;) {
      rss.push(rssOf(hub.pid));
      const answers = await Promise.all(children.map((ch) => ch.ask({ type: 'online' })));
      online = answers.reduce((s, a) => s + a.online, 0);
      if (online >= ramped) {
        allBackAt = Date.now();
        break;
      }
      if (Date.now() - killAt > budgetMs) break;
      await sleep(100);
    }
    log(`online again: ${online}/${ramped}${allBackAt ? ` after ${allBackAt - killAt} ms` : ` (budget ${budgetMs / 1000} s spent)`}`);
    const endAt = allBackAt ?? Date.now();
    const healthDuringHerd = await health.stop();
    const diagHealthDuringHerd = (await diagHealth?.stop()) ?? null;
    const dropsAfter = listenDrops();
    const hubMetrics = await fetch(`${hub.url}/metrics`).then((r) => r.text());
    const metric = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(hubMetrics)?.[1] ?? NaN);
    const reports = await Promise.all(children.map((ch) => ch.ask({ type: 'report' })));
    const attempts = reports.flatMap((r) => r.attempts);
    const failures = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    const retryAfters = reports.flatMap((r) => r.retryAfters).sort((a, b) => a - b);
    const back = reports
      .flatMap((r) => r.registeredAt)
      .filter((t) => t !== null)
      .map((t) => t - killAt)
      .sort((a, b) => a - b);
    const perSecond = bins(attempts, killAt, endAt, 1000);
    const per100 = bins(attempts, killAt, endAt, 100);
    const afterHealthy = bins(attempts, healthAt, endAt, 1000);
    const eld = readFileSync(eldFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((w) => w.t <= endAt);
    const windowSeconds = (endAt - killAt) / 1000;
    return {
      agents: n,
      registeredBeforeKill: ramped,
      rampSeconds: rampMs / 1000,
      backoff: { ...RECONNECT, jitter: 'full (uniform in [0, min(max, initial·2^n)])', source: 'agent/dist Backoff' },
      hubHealthyAfterKillMs: healthAt - killAt,
      registeredAgain: back.length,
      allBackMs: allBackAt ? allBackAt - killAt : null,
      backMs: { p50: pct(back, 50), p99: pct(back, 99), p100: back[back.length - 1] },
      attempts: {
        total: attempts.length,
        perAgent: attempts.length / n,
        peakPerSecond: Math.max(...perSecond),
        meanPerSecond: attempts.length / windowSeconds,
        peakPer100ms: Math.max(...per100),
        peakPer100msFractionOfN: Math.max(...per100) / n,
        peakPerSecondWhileHubUp: Math.max(...afterHealthy),
        perSecond,
      },
      failures,
      admission: {
        limit: metric('sonde_agent_admission_limit'),
        refusedByHub: metric('sonde_agent_admission_refused_total'),
        // 429: a caller over its share of places. Every simulated agent has a key of its own, so honest: 0.
        callerRefusedByHub: metric('sonde_agent_admission_caller_refused_total'),
        retryAfterS: retryAfters.length
          ? { min: retryAfters[0] / 1000, p50: pct(retryAfters, 50) / 1000, max: retryAfters[retryAfters.length - 1] / 1000 }
          : null,
      },
      hubHealthDuringHerd: healthDuringHerd,
      diagHealthDuringHerd,
      listenBacklog: { requested: backlog ?? 'hub default (4096)', somaxconn: somaxconn() },
      listenQueue: { overflows: dropsAfter.overflows - dropsBefore.overflows, drops: dropsAfter.drops - dropsBefore.drops },
      hubRssMiB: { beforeKill: rssSteady / MiB, peakDuringHerd: Math.max(...rss) / MiB, afterAllBack: rssOf(hub.pid) / MiB },
      hubEventLoopDelayMs: {
        windows: eld.length,
        max: Math.max(0, ...eld.map((w) => w.max)),
        worstWindowP99: Math.max(0, ...eld.map((w) => w.p99)),
        // The hub's own start (module loading, opening the store) blocks its loop too; this is the herd alone.
        maxOnceHealthy: Math.max(0, ...eld.filter((w) => w.t > healthAt).map((w) => w.max)),
        meanOfWindowMeans: eld.reduce((s, w) => s + w.mean, 0) / (eld.length || 1),
      },
      load1: { before: loadBefore, after: os.loadavg()[0] },
      cpus: os.cpus().length,
      node: process.version,
      at: new Date(killAt).toISOString(),
    };
  } finally {
    await Promise.all(children.map((ch) => (ch.proc.exitCode !== null ? undefined : ch.ask({ type: 'close' }).catch(() => undefined))));
    for (const ch of children) ch.proc.kill();
    await hub.stop();
  }
}

function table(r) {
  const f = (v, d = 0) =>
    v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const polls = (h) =>
    `${f(h.failed)} of ${f(h.polls)} / ${f(h.over1s)} / ${f(h.p50Ms)} / ${f(h.p99Ms)} / ${f(h.maxMs)} ms` +
    (h.failures.length ? ` (${h.failures.join(', ')})` : '');
  const rows = [
    ['agents registered before the kill', `${f(r.registeredBeforeKill)} / ${f(r.agents)} (ramp ${f(r.rampSeconds, 1)} s)`],
    ['new hub healthy after SIGKILL', `${f(r.hubHealthyAfterKillMs)} ms`],
    ['registered again: 50 % / 99 % / 100 %', `${f(r.backMs.p50)} / ${f(r.backMs.p99)} / ${f(r.backMs.p100)} ms`],
    ['all back', r.allBackMs === null ? `NO (${f(r.registeredAgain)} back)` : `${f(r.allBackMs / 1000, 1)} s`],
    ['reconnect attempts (per agent)', `${f(r.attempts.total)} (${f(r.attempts.perAgent, 2)})`],
    ['attempts/s peak / mean (kill → all back)', `${f(r.attempts.peakPerSecond)} / ${f(r.attempts.meanPerSecond)}`],
    ['attempts/s peak once the hub is up', f(r.attempts.peakPerSecondWhileHubUp)],
    ['attempts per 100 ms, peak (fraction of N)', `${f(r.attempts.peakPer100ms)} (${f(r.attempts.peakPer100msFractionOfN * 100, 2)} %)`],
    ...Object.entries(r.failures).map(([k, v]) => [`failed attempts: ${k}`, f(v)]),
    [
      'admission limit / 503s sent by the new hub',
      `${Number.isNaN(r.admission.limit) ? '— (hub without the limit)' : r.admission.limit === 0 ? 'none' : f(r.admission.limit)} / ${f(r.admission.refusedByHub)}`,
    ],
    ['429s sent by the new hub (a caller over its share; 0 expected)', f(r.admission.callerRefusedByHub)],
    [
      'Retry-After min / median / max',
      r.admission.retryAfterS
        ? `${f(r.admission.retryAfterS.min)} / ${f(r.admission.retryAfterS.p50)} / ${f(r.admission.retryAfterS.max)} s`
        : '—',
    ],
    ['/health polls once up: failed / over 1 s / p50 / p99 / max', polls(r.hubHealthDuringHerd)],
    ['  the same on the diagnostics listener', r.diagHealthDuringHerd ? polls(r.diagHealthDuringHerd) : '— (--no-diag)'],
    ['listen backlog asked / net.core.somaxconn', `${r.listenBacklog.requested} / ${f(r.listenBacklog.somaxconn)}`],
    ['kernel listen-queue overflows / drops (host-wide)', `${f(r.listenQueue.overflows)} / ${f(r.listenQueue.drops)}`],
    [
      'hub RSS before kill / peak in herd / after',
      `${f(r.hubRssMiB.beforeKill)} / ${f(r.hubRssMiB.peakDuringHerd)} / ${f(r.hubRssMiB.afterAllBack)} MiB`,
    ],
    [
      'hub event-loop delay: max incl. start / max once healthy',
      `${f(r.hubEventLoopDelayMs.max, 1)} / ${f(r.hubEventLoopDelayMs.maxOnceHealthy, 1)} ms`,
    ],
    ['load (1 min) before / after', `${f(r.load1.before, 1)} / ${f(r.load1.after, 1)} on ${r.cpus} CPUs`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

if (process.argv[2] === '--herd-child') serveChild();
else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const smoke = argv.includes('--smoke');
  const n = Number(arg('--agents') ?? process.env.SONDE_BENCH_HERD_AGENTS ?? (smoke ? 300 : 10_000));
  const result = await runHerd({
    agents: n,
    processes: Number(process.env.SONDE_BENCH_HERD_PROCS) || 2,
    rampBudgetMs: (Number(process.env.SONDE_BENCH_HERD_RAMP_S) || 600) * 1000,
    admissionMax: arg('--admission-max') === undefined ? undefined : Number(arg('--admission-max')),
    backlog: arg('--backlog') === undefined ? undefined : Number(arg('--backlog')),
    diag: !argv.includes('--no-diag'),
    log: (line) => process.stderr.write(`herd: ${line}\n`),
  });
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/herd-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`herd bench: ${n} agents, hub SIGKILLed and restarted on the same database and port (${result.at})`);
    console.log(table(result));
  }
  process.exit(result.allBackMs === null ? 1 : 0);
}
