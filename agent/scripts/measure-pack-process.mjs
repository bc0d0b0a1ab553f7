// Quick measurement (not a test): what one pack process costs to start, for one or more builds run alternately in the
// same minutes (issue 26: "pack process start ≤ 100 ms").
//
//   node agent/scripts/measure-pack-process.mjs [--tree DIR]... [--rounds 4] [--starts 3] [--os auto|none]
//
// For each tree, a fresh Node process imports that tree's built pack-sdk sandbox, makes a packs prefix with the
// built system pack and the host packages vendored as that tree's agent does (from its pack-process bundle,
// agent/dist/pack-process, when the tree has one; copies otherwise), and starts the pack's process `--starts` times
// through createSandboxRunner. Per start: CPU (utime+stime from /proc/<pid>/stat) of the pack's node process when it
// reports ready, and its PSS (/proc/<pid>/smaps_rollup) 0.5 s later. Builds are taken in turn, order reversed each round.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMsOf } from '../../bench/lib.mjs';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '4' },
    starts: { type: 'string', default: '3' },
    os: { type: 'string', default: 'auto' },
    child: { type: 'string' },
  },
});

const pssKiBOf = (pid) => Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);

async function child(tree, starts, osSandbox) {
  const sandbox = await import(pathToFileURL(path.join(tree, 'pack-sdk/dist/sandbox/index.js')).href);
  const bundleDir = path.join(tree, 'agent/dist/pack-process');
  const bundle = sandbox.readPackProcessBundle && existsSync(bundleDir) ? sandbox.readPackProcessBundle(bundleDir) : undefined;
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-pack-process-'));
  try {
    const nodeModules = path.join(root, 'packs/node_modules');
    sandbox.vendorHostPackages(nodeModules, bundle);
    const packDir = path.join(nodeModules, '@sonde/pack-system');
    const source = path.join(tree, 'packs/system');
    cpSync(source, packDir, { recursive: true, filter: (from) => !/[\\/](node_modules|src)$/.test(from) });
    const manifest = JSON.parse(readFileSync(path.join(packDir, 'sonde-pack.json'), 'utf8'));
    const samples = [];
    for (let i = 0; i < starts; i++) {
      const runner = sandbox.createSandboxRunner({
        packDir,
        permissions: manifest.permissions,
        manifest,
        osSandbox,
        childEntry: bundle?.runner,
        // A loaded host (other builds, tests) may take long in wall time; CPU is what is measured.
        limits: { startTimeoutMs: 300_000 },
      });
      await runner.start();
      const pid = runner.state.pid;
      const cpuMs = cpuMsOf(pid);
      await new Promise((resolve) => setTimeout(resolve, 500));
      samples.push({ cpuMs, pssKiB: pssKiBOf(pid), startupMs: runner.state.startupMs });
      await runner.close();
    }
    return { bundle: Boolean(bundle), isolation: sandbox.isolationLabel(osSandbox === 'none' ? null : sandbox.detectOsSandbox()), samples };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

if (values.child) {
  process.stdout.write(JSON.stringify(await child(values.child, Number(values.starts), values.os)));
} else {
  const trees = (values.tree ?? [path.resolve(import.meta.dirname, '../..')]).map((tree) => path.resolve(tree));
  const results = new Map(trees.map((tree) => [tree, []]));
  let label = '';
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const load = os.loadavg()[0].toFixed(1);
      const out = JSON.parse(
        execFileSync(process.execPath, [import.meta.filename, '--child', tree, '--starts', values.starts, '--os', values.os], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        }),
      );
      label = out.isolation;
      results.get(tree).push(...out.samples);
      const cpu = out.samples.map((s) => s.cpuMs).join('/');
      const pss = out.samples.map((s) => (s.pssKiB / 1024).toFixed(1)).join('/');
      console.log(`round ${round} ${tree} (${out.bundle ? 'bundle' : 'copies'}) load ${load}: CPU ${cpu} ms, PSS ${pss} MiB`);
    }
  }
  console.log(`\nNode ${process.version}, ${label}; medians over ${Number(values.rounds) * Number(values.starts)} starts:`);
  for (const [tree, samples] of results)
    console.log(
      `${tree}: CPU to ready ${median(samples.map((s) => s.cpuMs))} ms (min ${Math.min(...samples.map((s) => s.cpuMs))}), ` +
        `PSS ${(median(samples.map((s) => s.pssKiB)) / 1024).toFixed(1)} MiB`,
    );
}
