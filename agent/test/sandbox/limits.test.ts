import { spawn } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSondeError } from '@sonde/pack-sdk';
import {
  createSandboxRunner,
  detectSetpriv,
  type SandboxLimitsInput,
  type SandboxRunner,
  type SandboxSecurityEvent,
} from '@sonde/pack-sdk/sandbox';
import { childNodes, makePackTree, type PackTree } from './setup.js';
import { precondition } from '../../../test/support/preconditions.js';

const setpriv = precondition(
  import.meta.url,
  'setpriv',
  detectSetpriv() !== null,
  'setpriv (util-linux) cannot set a parent-death signal here, so a pack process would outlive a killed agent',
);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if ('value' in outcome) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value).slice(0, 200)}`);
  return outcome.error;
}

describe.each(childNodes())('limits of a pack process under %s', (nodePath) => {
  let tree: PackTree;
  const open: SandboxRunner[] = [];
  beforeAll(async () => {
    tree = await makePackTree();
  });
  afterAll(async () => {
    await Promise.all(open.map((runner) => runner.close()));
    tree?.cleanup();
  });

  function runnerWith(limits: SandboxLimitsInput, events: SandboxSecurityEvent[] = []): SandboxRunner {
    const runner = createSandboxRunner({
      packDir: tree.packDir,
      permissions: tree.permissions,
      nodePath,
      limits,
      onSecurityEvent: (event) => events.push(event),
    });
    open.push(runner);
    return runner;
  }

  it('kills a probe that hangs its event loop at its time limit, and the pack keeps serving', async () => {
    const events: SandboxSecurityEvent[] = [];
    const runner = runnerWith({ graceMs: 200 }, events);
    await runner.start();
    const firstPid = runner.state.pid;
    const started = performance.now();
    // spin.short declares 1 s: running past its own limit is the pack's fault, a trip.
    const error = await failure(runner.run('spin.short', {}));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('SONDE_ERR_TIMEOUT');
    expect(isSondeError(error) && error.details).toEqual({ limit: 'wall-time' });
    expect(elapsed).toBeGreaterThanOrEqual(1_150);
    expect(elapsed).toBeLessThan(5_000);
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    expect(runner.state).toMatchObject({ status: 'ready', restarts: 1, trips: 1, lastTrip: 'wall-time' });
    expect(runner.state.pid).not.toBe(firstPid);
    expect(events.map((event) => event.kind)).toEqual(['sandbox-limit']);
  });

  it('answers a probe that never settles with a timeout, without a restart', async () => {
    const runner = runnerWith({});
    const error = await failure(runner.run('hang', {}));
    expect(error.code).toBe('SONDE_ERR_TIMEOUT');
    expect(runner.state).toMatchObject({ status: 'ready', restarts: 0, trips: 1 });
  });

  it('kills a probe over its CPU time, read from /proc', async () => {
    const runner = runnerWith({ cpuMs: 300 });
    const started = performance.now();
    const error = await failure(runner.run('spin', {}, 20_000));
    expect(error.message).toMatch(/cpu limit: spin used \d+ ms of CPU/);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(runner.state.lastTrip).toBe('cpu');
  });

  it('kills the probe over its CPU time while other probes run beside it (one /proc reading per check)', async () => {
    const runner = runnerWith({ cpuMs: 300 });
    await runner.start();
    const error = failure(runner.run('spin', {}, 20_000));
    // Queued behind the first spin in the pack process: over the limit by the same reading, but not the first run.
    const beside = failure(runner.run('spin', {}, 20_000));
    const first = await error;
    expect(first.message).toMatch(/cpu limit: spin used \d+ ms of CPU/);
    expect(isSondeError(first) && first.details).toEqual({ limit: 'cpu' });
    // The probe beside it loses its process, and is told so rather than blamed.
    const other = await beside;
    expect(isSondeError(other) && other.details).toEqual({ restarted: true });
    expect(runner.state.lastTrip).toBe('cpu');
  });

  it('stops a probe that exhausts its memory', async () => {
    const runner = runnerWith({ maxHeapMb: 32, maxRssMb: 256 });
    const error = await failure(runner.run('hog', {}));
    expect(error.message).toMatch(/memory limit/);
    expect(runner.state.lastTrip).toBe('memory');
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
  });

  it('refuses a result larger than the output limit', async () => {
    const runner = runnerWith({ maxOutputBytes: 4096 });
    expect((await runner.run('big', { bytes: 1000 })).result).toEqual({ outcome: 'x'.repeat(1000) });
    const error = await failure(runner.run('big', { bytes: 200_000 }));
    expect(error.code).toBe('SONDE_ERR_OUTPUT_LIMIT');
    expect(runner.state.lastTrip).toBe('output');
  });

  it('quarantines a pack that keeps tripping limits until an operator releases it', async () => {
    const events: SandboxSecurityEvent[] = [];
    const runner = runnerWith({ maxTrips: 2, graceMs: 100 }, events);
    await failure(runner.run('spin.short', {}));
    await failure(runner.run('spin.short', {}));
    expect(runner.state.status).toBe('quarantined');
    expect(runner.state.reason).toMatch(/2 limit trips/);
    const refused = await failure(runner.run('noop', {}));
    expect(refused.message).toMatch(/quarantined.*an operator must release it/);
    expect(events.map((event) => event.kind)).toEqual(['sandbox-limit', 'sandbox-limit', 'sandbox-quarantined']);
    runner.release();
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    expect(runner.state.trips).toBe(0);
  });

  it("a caller's deadline shorter than the probe's own ends the run there but never counts toward quarantine", async () => {
    // Found by the hostile-hub fuzz: three short signed timeouts quarantined the pack ("no active pack serves …").
    // An MCP client's short health_check deadline reaches the agent the same way.
    const events: SandboxSecurityEvent[] = [];
    const runner = runnerWith({ maxTrips: 2, graceMs: 100 }, events);
    for (let i = 0; i < 3; i++) {
      const error = await failure(runner.run('spin', {}, 200));
      expect(error.code).toBe('SONDE_ERR_TIMEOUT');
    }
    const error = await failure(runner.run('hang', {}, 150));
    expect(error.code).toBe('SONDE_ERR_TIMEOUT');
    expect(runner.state).toMatchObject({ status: 'ready', trips: 0, restarts: 3 });
    expect(events.map((event) => event.kind)).toEqual([]);
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
  });

  it('stops an idle pack process and starts a fresh one for the next probe, without counting a crash', async () => {
    const runner = runnerWith({ idleStopMs: 300 });
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    const firstPid = runner.state.pid!;
    await expect.poll(() => runner.state.status, { timeout: 3_000 }).toBe('idle');
    await expect.poll(() => isAlive(firstPid), { timeout: 3_000 }).toBe(false);
    expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    expect(runner.state).toMatchObject({ status: 'ready', restarts: 0, trips: 0, idleStops: 1 });
    expect(runner.state.pid).not.toBe(firstPid);
  });

  it('keeps a pack process up while a probe runs, however long, and with idleStopMs 0 for good', async () => {
    const busy = runnerWith({ idleStopMs: 200, graceMs: 100 });
    await failure(busy.run('hang', {}, 700));
    expect(busy.state).toMatchObject({ idleStops: 0, restarts: 0 });
    const always = runnerWith({ idleStopMs: 0 });
    const clock = runnerWith({ idleStopMs: 200 });
    await Promise.all([always.run('noop', {}), clock.run('noop', {})]);
    // Not a fixed sleep: wait until a runner with a short idle limit has stopped; the one without must not have.
    await expect.poll(() => clock.state.status, { timeout: 5_000 }).toBe('idle');
    expect(always.state).toMatchObject({ status: 'ready', idleStops: 0 });
  });

  it('refuses code that declares other permissions than were approved', async () => {
    const events: SandboxSecurityEvent[] = [];
    const runner = createSandboxRunner({
      packDir: tree.packDir,
      permissions: { ...tree.permissions, files: ['/var/log/**'] },
      nodePath,
      onSecurityEvent: (event) => events.push(event),
    });
    open.push(runner);
    const error = await failure(runner.start());
    expect(error.message).toMatch(/other permissions than were approved/);
    expect(runner.state.status).toBe('failed');
    expect(events[0]?.kind).toBe('sandbox-refused');
  });

  it('refuses a dependency tree that links outside the grant', async () => {
    const link = `${tree.packDir}/../zod/escape`;
    symlinkSync('/etc', link);
    try {
      const error = await failure(runnerWith({}).start());
      expect(error.message).toMatch(/zod\/escape: symlink to \/etc/);
    } finally {
      const { rmSync } = await import('node:fs');
      rmSync(link);
    }
  });
});

describe.skipIf(!setpriv.holds)('when the agent dies', () => {
  it.each(['auto', 'none'] as const)(
    'takes a spinning pack process with it (PDEATHSIG through setpriv; namespaces: %s)',
    async (osSandbox) => {
      const tree = await makePackTree();
      const script = `
      import { createSandboxRunner } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../../pack-sdk/dist/sandbox/index.js'))};
      const runner = createSandboxRunner({ packDir: ${JSON.stringify(tree.packDir)}, permissions: ${JSON.stringify(tree.permissions)}, osSandbox: '${osSandbox}' });
      await runner.start();
      process.stdout.write(String(runner.state.pid) + '\\n');
      await runner.run('spin', {});
    `;
      const fakeAgent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const pid = await new Promise<number>((resolve, reject) => {
          fakeAgent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
          fakeAgent.once('exit', () => reject(new Error('the fake agent exited early')));
        });
        expect(existsSync(`/proc/${pid}`)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 200));
        fakeAgent.kill('SIGKILL');
        const deadline = Date.now() + 3_000;
        while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(existsSync(`/proc/${pid}`)).toBe(false);
      } finally {
        fakeAgent.kill('SIGKILL');
        tree.cleanup();
      }
    },
  );
});
