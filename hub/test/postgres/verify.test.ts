import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { openHubCore } from '../../src/core.js';
import { TEST_SECRET, tempDir, testEnv } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';
import { postgresForTests } from './support.js';

/**
 * A full audit verify on PostgreSQL, where no worker thread reads the chain: the walk runs on the hub's main thread
 * and must give the event loop back in short turns (audit-log.ts `turnKeeper`: at most 8 ms or 500 rows), and it
 * must stop promptly when cancelled (`DELETE /api/v1/audit/verify/{id}` on a real hub on a fresh database).
 */
const ENTRIES = 30_000;
const pg = await postgresForTests(import.meta.url);
const tmp = tempDir('sonde-pg-verify-');
let hub: RunningHub | undefined;
afterAll(async () => {
  await hub?.stop();
  await pg.dropAll();
  tmp.cleanup();
});

/** A fresh database with an `ENTRIES`-entry chain written through the hub's own audit log (its group commit). */
async function filledDatabase(): Promise<string> {
  const url = await pg.fresh();
  const core = await openHubCore({ dbPath: url, secret: TEST_SECRET, ca: false });
  try {
    for (let done = 0; done < ENTRIES; done += 5_000) {
      await Promise.all(
        Array.from({ length: 5_000 }, (_, i) =>
          core.audit.append({
            action: 'test.fill',
            actor: { kind: 'system', id: null, name: 'fill' },
            status: 'ok',
            detail: `entry ${done + i}`,
          }),
        ),
      );
    }
  } finally {
    await core.close();
  }
  return url;
}

describe('full audit verify on PostgreSQL', () => {
  it.skipIf(!pg.available.holds)(
    `gives the event loop back in short turns while it walks the chain on the main thread ${pg.available.reason}`,
    async () => {
      const url = await filledDatabase();
      const core = await openHubCore({ dbPath: url, secret: TEST_SECRET, ca: false });
      try {
        // At every turn of the event loop (a ticker that re-arms itself), how far the verify had got and how much CPU
        // this process had used: the rows, and the CPU, one turn took. Rows are exact and do not depend on the host;
        // CPU is this process's own time, not stretched by other processes as the wall-clock delay is.
        let checked = 0;
        let ticking = true;
        let lastChecked = 0;
        let lastCpu = process.cpuUsage();
        let maxRowsPerTurn = 0;
        const cpuPerTurnMs: number[] = [];
        const tick = (): void => {
          const cpu = process.cpuUsage();
          cpuPerTurnMs.push((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000);
          maxRowsPerTurn = Math.max(maxRowsPerTurn, checked - lastChecked);
          lastChecked = checked;
          lastCpu = cpu;
          if (ticking) setImmediate(tick);
        };
        setImmediate(tick);
        const histogram = monitorEventLoopDelay({ resolution: 5 });
        histogram.enable();
        const cpu = process.cpuUsage();
        const result = await core.audit.verify({ full: true, onProgress: (progress) => (checked = progress.checked) });
        const used = process.cpuUsage(cpu);
        histogram.disable();
        ticking = false;
        expect(result).toMatchObject({ ok: true, full: true });
        expect(result.checked).toBeGreaterThanOrEqual(ENTRIES);
        // At most 500 rows between two turns (fewer on a slow host: a turn ends after 8 ms). The former walk did 2,000.
        expect(maxRowsPerTurn).toBeGreaterThan(0);
        expect(maxRowsPerTurn).toBeLessThanOrEqual(500);
        // The histogram and the CPU a turn took, for the record (not asserted: a shared host adds its own delays).
        const sorted = [...cpuPerTurnMs].sort((a, b) => a - b);
        const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
        console.info(
          `pg verify of ${result.checked} rows: at most ${maxRowsPerTurn} rows a turn, CPU a turn max ${sorted[sorted.length - 1].toFixed(1)} ms ` +
            `p99 ${sorted[Math.floor(sorted.length * 0.99)].toFixed(1)} ms; event loop delay max ${ms(histogram.max)} ms, ` +
            `p99 ${ms(histogram.percentile(99))} ms; CPU ${Math.round((used.user + used.system) / 1000)} ms, wall ${result.durationMs} ms`,
        );
      } finally {
        await core.close();
      }
    },
    300_000,
  );

  it.skipIf(!pg.available.holds)(
    `stops promptly when cancelled over REST, audited once ${pg.available.reason}`,
    async () => {
      const url = await filledDatabase();
      const env = testEnv(path.join(tmp.dir, 'hub', 'sonde.db'), { SONDE_DATABASE_URL: url, SONDE_LOG_LEVEL: 'info' });
      const created = await runCli(['keys', 'create', '--name', 'pg-verify-admin', '--role', 'admin', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const key = (JSON.parse(created.stdout) as { rawKey: string }).rawKey;
      hub = await startHubProcess(env);
      const call = async (method: string, url: string) =>
        (await fetch(`${hub!.url}${url}`, { method, headers: { authorization: `Bearer ${key}` } })).json() as Promise<{
          id: string;
          state: string;
          checked: number;
          total: number;
          cancelledBy: string | null;
        }>;

      const job = await call('POST', '/api/v1/audit/verify');
      // Cancelled while it walks: once it has reported some entries checked, long before the end.
      const deadline = Date.now() + 60_000;
      let seen = await call('GET', `/api/v1/audit/verify/${job.id}`);
      while (seen.state === 'running' && seen.checked === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen = await call('GET', `/api/v1/audit/verify/${job.id}`);
      }
      expect(seen.state).toBe('running');
      const asked = performance.now();
      const cancelled = await call('DELETE', `/api/v1/audit/verify/${job.id}`);
      const tookMs = performance.now() - asked;
      expect(cancelled).toMatchObject({ id: job.id, state: 'cancelled', cancelledBy: 'pg-verify-admin' });
      expect(cancelled.checked).toBeLessThan(ENTRIES);
      console.info(
        `pg verify cancelled after ${cancelled.checked} of ${cancelled.total} entries; DELETE answered in ${Math.round(tookMs)} ms`,
      );

      const audit = (await call('GET', '/api/v1/audit?tool=audit.verify&limit=20')) as unknown as {
        entries: { detail: string; status: string }[];
      };
      const entries = audit.entries.filter((e) => e.detail.includes(job.id));
      expect(entries).toHaveLength(1);
      expect(entries[0].status).toBe('partial');

      // Nothing was recorded: the next verify from the checkpoint still walks everything (there is no checkpoint).
      const verify = await runCli(['audit', 'verify', '--since-checkpoint', '--json'], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect((JSON.parse(verify.stdout) as { fromSeq: number }).fromSeq).toBe(1);
    },
    300_000,
  );
});
