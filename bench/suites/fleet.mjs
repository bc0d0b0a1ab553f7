// Issue 13 items 3 and 5 (and the agent-count rows of item 10): one real hub,
// many simulated agents (bench/sim-agent.mjs: signed frames, heartbeats at the
// hub's interval, probes answered at once). A few agents enroll over HTTP with
// a CSR, as real ones do; the rest are written into the database the same way
// enrollment leaves them. At each step of the ramp: hub RSS per agent, MCP
// probe latency to random agents while all are connected, and health_check
// fan-out over every agent.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { row, summarize } from '../lib.mjs';
import { rawCaller } from '../mcp-raw.mjs';
import { enrollOverHttp, keyPool, seedAgents, simFleet } from '../sim-agent.mjs';
import { MiB, REPO, rssOf, sleep, startHub } from '../stack.mjs';

/** What each simulated agent registers: the real system pack manifest (40 KB) plus the bench pack, unless SONDE_BENCH_FLEET_PACKS=bench. */
async function manifests() {
  const bench = (await import(pathToFileURL(path.join(REPO, 'bench/fixtures/noop-pack/index.js')).href)).default.manifest;
  if (process.env.SONDE_BENCH_FLEET_PACKS === 'bench') return [bench];
  const system = JSON.parse(readFileSync(path.join(REPO, 'packs/system/sonde-pack.json'), 'utf8'));
  delete system.$schema;
  return [system, bench];
}

/** CPU time of the hub (from /proc), the simulated agents and this process between now and `end()`, as % of one core. */
function cpuWindow(pid, fleet) {
  const ticks = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (USER_HZ = 100 on Linux)
  };
  const started = performance.now();
  const hubTicks = ticks();
  const self = process.cpuUsage();
  const simMs = fleet.cpuMs();
  return {
    async end() {
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(self);
      const hubMs = (ticks() - hubTicks) * 10;
      const simsMs = (await fleet.cpuMs()) - (await simMs);
      return {
        wallMs,
        hubMs,
        simsMs,
        hubPercent: (hubMs * 100) / wallMs,
        simPercent: (simsMs / wallMs) * 100,
        selfPercent: ((used.user + used.system) / 1000 / wallMs) * 100,
      };
    },
  };
}

export async function run({ smoke }) {
  const steps = process.env.SONDE_BENCH_FLEET_STEPS
    ? process.env.SONDE_BENCH_FLEET_STEPS.split(',').map(Number)
    : smoke
      ? [10, 20]
      : [100, 1_000, 10_000];
  // Calls per step (SONDE_BENCH_FLEET_PROBES overrides). From 1,000 agents on they are paced over one heartbeat
  // interval, so the p99 sees every phase of the fleet's heartbeat and liveness cycle, not a 2-second slice of it.
  const probeCallsAt = (step) => Number(process.env.SONDE_BENCH_FLEET_PROBES) || (smoke ? 20 : step <= 100 ? 300 : 200);
  const rampBudgetMs = smoke ? 30_000 : 240_000;
  const enrollN = smoke ? 3 : 20;
  // How the simulated agents sign: Ed25519 by default, as agents enrolled since issue 26 do; SONDE_BENCH_WIRE=rsa-sha256
  // measures the RSA path of agents enrolled before it (and of deployments that keep RSA).
  const wire = process.env.SONDE_BENCH_WIRE === 'rsa-sha256' ? 'rsa-sha256' : 'ed25519';
  const total = steps[steps.length - 1];
  const keys = await keyPool(smoke ? 2 : 8);
  const hub = await startHub({ env: { SONDE_LOG_LEVEL: 'error' } });
  const rows = [];
  let fleet;
  try {
    const key = await hub.createAdminKey();

    // Real enrollment for a sample: CSR → certificate + agent key.
    let t0 = performance.now();
    const enrolled = [];
    for (let i = 0; i < enrollN; i++) enrolled.push(await enrollOverHttp(hub.url, key, `enrolled-${i}`, keys[i % keys.length], { wire }));
    const enrollMs = (performance.now() - t0) / enrollN;
    rows.push(row(`enrollment over HTTP (token + CSR → cert), mean of ${enrollN}; agents sign with ${wire}`, enrollMs, 'ms'));
    const { caPem, hubKeyPem } = enrolled[0];
    const seeded = await seedAgents(hub.env.SONDE_DB_PATH, total - enrollN, keys, 'sim', { wire });
    const agents = [...enrolled, ...seeded];
    // The simulated agents sign their frames in child processes (SONDE_BENCH_FLEET_PROCS, default 2); the MCP caller
    // timing the probes stays here, so its figures do not include waiting behind thousands of heartbeat signatures.
    const processes = Number(process.env.SONDE_BENCH_FLEET_PROCS) || 2;
    fleet = await simFleet({
      processes,
      keys,
      wsUrl: hub.url.replace('http', 'ws') + '/ws/agent',
      caPem,
      hubKeyPem,
      manifests: await manifests(),
    });
    const caller = rawCaller(hub, key);

    let connected = 0;
    let live = 0;
    let prevRss = rssOf(hub.pid);
    let prevLive = 0;
    for (const step of steps) {
      t0 = performance.now();
      const batch = await fleet.connect(agents.slice(connected, step), smoke ? 10 : 100, rampBudgetMs);
      const rampMs = performance.now() - t0;
      connected = step;
      live += batch.connected;
      rows.push(row(`${step} agents: connected and registered`, live, 'agents', `${step}`, live === step));
      if (batch.failures.length) rows.push(row(`${step} agents: first failure`, batch.failures[0].slice(0, 120), ''));
      rows.push(row(`${step} agents: ramp time (+${step - (steps[steps.indexOf(step) - 1] ?? 0)})`, rampMs, 'ms'));
      if (live < step) {
        rows.push(row(`${step} agents: ramp stopped (budget ${rampBudgetMs / 1000} s or failures)`, live, 'agents'));
      }
      await sleep(smoke ? 500 : 5_000); // settle: GC, heartbeats, sweeps
      const rss = rssOf(hub.pid);
      const rssGoal = step >= 10_000 ? '≤ 250 MiB at 10k' : '';
      rows.push(row(`${step} agents: hub RSS`, rss / MiB, 'MiB', rssGoal, rssGoal ? rss <= 250 * MiB : undefined));
      rows.push(row(`${step} agents: hub RSS per added agent (vs previous step)`, (rss - prevRss) / 1024 / (live - prevLive), 'KiB'));
      prevRss = rss;
      prevLive = live;

      if (live < step) break;
      const samples = [];
      let failed = 0;
      const probeCalls = probeCallsAt(step);
      const before = await fleet.stats();
      const spacingMs = step >= 1_000 && !smoke ? (before.heartbeatMs ?? 15_000) / probeCalls : 0;
      const window = cpuWindow(hub.pid, fleet);
      for (let i = 0; i < probeCalls; i++) {
        const target = agents[Math.floor(Math.random() * live)].name;
        const started = performance.now();
        try {
          await caller.call('bench_noop', { agent: target });
          samples.push(performance.now() - started);
        } catch (error) {
          failed += 1;
          if (failed === 1) process.stderr.write(`bench: probe to ${target} failed: ${error.message}\n`);
        }
        const wait = spacingMs - (performance.now() - started);
        if (wait > 0) await sleep(wait);
      }
      const cpu = await window.end();
      const probe = summarize(samples);
      const p99Goal = step >= 10_000 ? '≤ 50 ms at 10k' : '';
      rows.push(row(`${step} agents: MCP probe p50`, probe.p50, 'ms'));
      rows.push(
        row(
          `${step} agents: MCP probe p99 (n=${samples.length}, ${failed} failed${spacingMs ? `, one per ${Math.round(spacingMs)} ms` : ''})`,
          probe.p99,
          'ms',
          p99Goal,
          p99Goal ? probe.p99 <= 50 && failed === 0 : undefined,
        ),
      );
      rows.push(row(`${step} agents: MCP probe max`, probe.max, 'ms'));
      // CPU time is what the load of other jobs on the machine distorts least.
      const beats = ((await fleet.stats()).heartbeats - before.heartbeats) / (cpu.wallMs / 1000);
      rows.push(row(`${step} agents: hub CPU while probing (${Math.round(beats)} heartbeats/s)`, cpu.hubPercent, '% of a core'));
      rows.push(
        row(
          `${step} agents: sim agents' CPU (${processes} processes) / MCP caller's`,
          `${cpu.simPercent.toFixed(1)} / ${cpu.selfPercent.toFixed(1)}`,
          '% of a core',
        ),
      );

      if ((step >= 1_000 || smoke) && probe.p50 < 10_000) {
        t0 = performance.now();
        const fanCpu = cpuWindow(hub.pid, fleet);
        const result = await caller
          .call('health_check', { packs: ['bench'], deadlineMs: 40_000 })
          .catch((error) => ({ content: [{ text: String(error.message) }] }));
        const fanMs = performance.now() - t0;
        const fanShares = await fanCpu.end();
        const text = result.content?.[0]?.text ?? '';
        // The answer is cut to the result budget (agents dropped, `truncated: true`); its summary counts every agent.
        let ok = (text.match(/"status":"ok"/g) ?? []).length;
        try {
          ok = JSON.parse(text).summary?.ok ?? ok;
        } catch {
          // not JSON: an error text; count what matched
        }
        const goal = step === 1_000 ? '≤ 1 s at 1,000' : '';
        rows.push(row(`${step} agents: health_check fan-out (${ok} ok statuses)`, fanMs, 'ms', goal, goal ? fanMs <= 1000 : undefined));
        // Who the fan-out waited for: the hub (signing, dispatch, the answer's cut), the simulated agents (verify, sign), or neither (round trips).
        rows.push(
          row(
            `${step} agents: CPU during health_check, hub / sim agents (${processes} processes)`,
            `${fanShares.hubPercent.toFixed(0)} / ${fanShares.simPercent.toFixed(0)}`,
            '% of a core',
          ),
        );
        // CPU time per agent moves least with the load of other jobs on a shared host: the figure to compare builds by.
        // It includes the heartbeats that arrive meanwhile (a fleet of `step` agents sends step / 15 a second).
        rows.push(
          row(
            `${step} agents: CPU per agent during health_check, hub / sim agents`,
            `${((fanShares.hubMs * 1000) / live).toFixed(0)} / ${((fanShares.simsMs * 1000) / live).toFixed(0)}`,
            'µs',
          ),
        );
      }
    }
    const stats = await fleet.stats();
    rows.push(
      row(
        'sim agents: heartbeats sent / probes answered / rejects / closed',
        `${stats.heartbeats}/${stats.probes}/${stats.rejects}/${stats.closed}`,
        '',
      ),
    );
  } finally {
    await fleet?.close();
    await hub.stop();
  }
  return rows;
}
