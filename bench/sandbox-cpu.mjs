// CPU per call of the process sandbox alone (issue 26: "per-call overhead ≤ 0.3 ms"), for one or more builds run
// alternately in the same minutes:
//
//   node bench/sandbox-cpu.mjs [--tree DIR]... [--rounds 4] [--calls 5000]
//
// For each tree, a fresh Node process imports that tree's built pack-sdk, puts the no-op bench pack in a packs prefix
// with the host packages vendored (as the agent does), starts its pack process through createSandboxRunner (Node's
// permission model; the OS wrapper only changes how the process starts, not a call) and runs `--calls` sequential
// `noop` calls after a warm-up. It reports the CPU per call of the agent's side (this process: framing, validation,
// the run's bookkeeping) and of the pack process (from /proc), and the wall-time p50 of a call. No hub, no agent, no
// WebSocket: the figure is what a pack process adds to each call, without the rest of the stack's noise.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMsOf } from './lib.mjs';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '4' },
    calls: { type: 'string', default: '5000' },
    child: { type: 'string' },
  },
});

async function child(tree, calls) {
  const sandbox = await import(pathToFileURL(path.join(tree, 'pack-sdk/dist/sandbox/index.js')).href);
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-sandbox-cpu-'));
  try {
    const nodeModules = path.join(root, 'packs/node_modules');
    sandbox.vendorHostPackages(nodeModules);
    const packDir = path.join(nodeModules, '@sonde/pack-bench');
    cpSync(path.join(tree, 'bench/fixtures/noop-pack'), packDir, { recursive: true });
    const script = `const m = await import(${JSON.stringify(path.join(packDir, 'index.js'))}); process.stdout.write(JSON.stringify(m.default.manifest));`;
    const manifest = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    writeFileSync(path.join(packDir, 'sonde-pack.json'), JSON.stringify(manifest));
    const runner = sandbox.createSandboxRunner({ packDir, permissions: manifest.permissions, manifest, osSandbox: 'none' });
    await runner.start();
    for (let i = 0; i < 500; i++) await runner.run('noop', {});
    const pid = runner.state.pid;
    const samples = new Array(calls);
    const self0 = process.cpuUsage();
    const pack0 = cpuMsOf(pid);
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await runner.run('noop', {});
      samples[i] = performance.now() - t0;
    }
    const self = process.cpuUsage(self0);
    const packMs = cpuMsOf(pid) - pack0;
    await runner.close();
    samples.sort((a, b) => a - b);
    return {
      agentUs: (self.user + self.system) / calls,
      packUs: (packMs * 1000) / calls,
      p50Ms: samples[Math.floor(calls / 2)],
      isolation: runner.isolation,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (values.child) {
  process.stdout.write(JSON.stringify(await child(values.child, Number(values.calls))));
} else {
  const trees = (values.tree ?? [path.resolve(import.meta.dirname, '..')]).map((t) => path.resolve(t));
  const results = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const load = os.loadavg()[0];
      const out = JSON.parse(
        execFileSync(process.execPath, [import.meta.filename, '--child', tree, '--calls', values.calls], { encoding: 'utf8' }),
      );
      results.push({ tree, round, load, ...out });
      process.stderr.write(
        `round ${round + 1} ${path.basename(tree)}: agent side ${out.agentUs.toFixed(1)} µs, pack process ${out.packUs.toFixed(1)} µs per call, p50 ${out.p50Ms.toFixed(3)} ms (load ${load.toFixed(1)})\n`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  for (const tree of trees) {
    const rows = results.filter((r) => r.tree === tree);
    const show = (k, d) => `${rows.map((r) => r[k].toFixed(d)).join(' / ')} (median ${median(rows.map((r) => r[k])).toFixed(d)})`;
    console.log(`${tree}: agent side ${show('agentUs', 0)} µs; pack process ${show('packUs', 0)} µs; p50 ${show('p50Ms', 3)} ms`);
  }
}
