import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { applyRetention, retentionCut } from '../../src/audit/retention.js';
import { loadConfig } from '../../src/config.js';
import { openStoreBackdoor } from '../../src/store/testing.js';
import { tempDir, testEnv, TEST_SECRET } from '../helpers.js';
import { runCli } from '../process.js';

/**
 * Issue 25, retention: old entries move to archive files with a signed checkpoint of the pruned prefix's head; the
 * database's chain still verifies (from that checkpoint) and each archive verifies on its own and links to the next.
 * Real app on a real SQLite file, judged by the real CLI.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function hubWith(extra: Record<string, string>): Promise<{ app: FastifyInstance; dir: string; env: Record<string, string> }> {
  const { dir, cleanup } = tempDir('sonde-retention-');
  cleanups.push(cleanup);
  const env = testEnv(path.join(dir, 'sonde.db'), extra);
  const app = await buildApp(loadConfig(env), { logger: false, auditExportTuning: { pollMs: 100, retryBaseMs: 50, retryMaxMs: 200 } });
  await app.ready();
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await app.close();
  });
  const close = app.close.bind(app);
  app.close = (() => {
    closed = true;
    return close();
  }) as typeof app.close;
  return { app, dir, env: { SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: env.SONDE_DB_PATH } };
}

async function appendMany(app: FastifyInstance, n: number): Promise<number> {
  let last = 0;
  for (let done = 0; done < n; done += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, n - done) }, (_, i) =>
        app.core.audit.append({ action: 'test.retention', actor: { kind: 'system', id: null, name: `n${done + i}` }, status: 'ok' }),
      ),
    );
    last = batch[batch.length - 1].seq;
  }
  return last;
}

const archives = (dir: string): string[] =>
  readdirSync(path.join(dir, 'audit-archive'))
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => path.join(dir, 'audit-archive', name));

describe('audit retention by row count', () => {
  it('archives all but the newest 1,000 entries; the database chain and the archives verify, and link up', async () => {
    const { app, dir, env } = await hubWith({ SONDE_AUDIT_RETENTION_ROWS: '1000' });
    const last = await appendMany(app, 2_600);
    const results = await app.auditRetention!.runNow();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ fromSeq: 1, toSeq: last - 1000, entries: last - 1000 });
    // One audit.prune entry recorded the prune.
    const [prune] = await app.core.store.audit.query({ tool: 'audit.prune', limit: 5 });
    expect(prune.detail).toBe(`entries 1-${last - 1000} archived to ${path.basename(results[0].file)} and pruned`);
    expect(await app.core.store.audit.count()).toBe(1000 + 1);

    const verified = await app.core.audit.verify();
    expect(verified).toMatchObject({ ok: true, full: true, fromSeq: last - 1000 + 1, checked: 1001 });
    await app.close();

    const cli = await runCli(['audit', 'verify', '--json'], env);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, fromSeq: last - 1000 + 1 });
    const files = archives(dir);
    expect(files).toHaveLength(1);
    const archive = await runCli(['audit', 'verify-archive', '--json', ...files], env);
    expect(archive.code).toBe(0);
    expect(JSON.parse(archive.stdout)).toMatchObject({ ok: true, databaseBase: last - 1000, linksToDatabase: true });
  });

  it('a second prune makes a second archive that follows the first; an edited or cut archive fails verify-archive', async () => {
    const { app, dir, env } = await hubWith({ SONDE_AUDIT_RETENTION_ROWS: '1000' });
    await appendMany(app, 1_500);
    await app.auditRetention!.runNow();
    await appendMany(app, 700);
    const second = await app.auditRetention!.runNow();
    expect(second).toHaveLength(1);
    expect((await app.core.audit.verify()).ok).toBe(true);
    await app.close();
    const files = archives(dir);
    expect(files).toHaveLength(2);
    expect((await runCli(['audit', 'verify-archive', ...files], env)).code).toBe(0);

    // Only the second: entries before it are not there, but it verifies on its own and links to the database.
    expect((await runCli(['audit', 'verify-archive', files[1]], env)).code).toBe(0);

    // One entry's detail edited in the first archive.
    const original = readFileSync(files[0], 'utf8');
    writeFileSync(files[0], original.replace('"n7"', '"n8"'));
    const edited = await runCli(['audit', 'verify-archive', '--json', ...files], env);
    expect(edited.code).toBe(5);
    expect(edited.stderr + edited.stdout).toMatch(/entry 8 was modified/);

    // The footer and last rows cut off.
    const lines = original.trimEnd().split('\n');
    writeFileSync(files[0], `${lines.slice(0, -3).join('\n')}\n`);
    const cut = await runCli(['audit', 'verify-archive', ...files], env);
    expect(cut.code).toBe(5);
    expect(cut.stderr).toMatch(/footer is missing/);
  });

  it('putting back the older retention checkpoint breaks verify', async () => {
    const { app, env } = await hubWith({ SONDE_AUDIT_RETENTION_ROWS: '1000' });
    await appendMany(app, 1_300);
    await app.auditRetention!.runNow();
    const firstBase = (await openBackdoorSetting(env.SONDE_DB_PATH, 'audit.base'))!;
    await appendMany(app, 600);
    await app.auditRetention!.runNow();
    await app.close();
    expect((await runCli(['audit', 'verify'], env)).code).toBe(0);

    const backdoor = await openStoreBackdoor(env.SONDE_DB_PATH);
    await backdoor.setSetting('audit.base', firstBase);
    await backdoor.close();
    const older = await runCli(['audit', 'verify', '--json'], env);
    expect(older.code).toBe(5);
    expect(older.stdout + older.stderr).toMatch(/is missing/);
  });

  it('removing the first entry the database keeps breaks verify', async () => {
    const { app, env } = await hubWith({ SONDE_AUDIT_RETENTION_ROWS: '1000' });
    await appendMany(app, 1_300);
    await app.auditRetention!.runNow();
    const base = await app.core.audit.base();
    await app.close();
    const backdoor = await openStoreBackdoor(env.SONDE_DB_PATH);
    await backdoor.deleteAuditRows(base.seq + 1);
    await backdoor.close();
    const result = await runCli(['audit', 'verify', '--json'], env);
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, firstBrokenSeq: base.seq + 1 });
  });
});

async function openBackdoorSetting(dbPath: string, key: string): Promise<string | undefined> {
  const backdoor = await openStoreBackdoor(dbPath);
  try {
    const tables = JSON.parse(await backdoor.dumpText()) as [string, { key?: string; value?: string }[]][];
    return tables.find(([name]) => name === 'settings')![1].find((row) => row.key === key)?.value;
  } finally {
    await backdoor.close();
  }
}

describe('audit retention limits', () => {
  it('never prunes entries an export sink has not acknowledged, nor the newest entry', async () => {
    const { app } = await hubWith({
      SONDE_AUDIT_RETENTION_ROWS: '1000',
      // Nothing listens there: the webhook never acknowledges.
      SONDE_AUDIT_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      SONDE_AUDIT_WEBHOOK_SECRET: 'webhook-secret-0123456789-abcdefghijk',
    });
    await appendMany(app, 1_500);
    expect(await app.auditRetention!.runNow()).toEqual([]);
    expect((await app.core.audit.base()).seq).toBe(0);
    await expect(app.core.audit.pruneThrough(1_500_000, { open: () => Promise.reject(new Error('unused')) } as never)).rejects.toThrow(
      /is the newest and stays/,
    );
  });

  it('by age: entries older than the limit go (cut computed against a clock 31 days ahead); an unwritable archive prunes nothing', async () => {
    const { app, dir } = await hubWith({});
    const last = await appendMany(app, 1_200);
    const in31Days = new Date(Date.now() + 31 * 86_400_000);
    const policy = { maxAgeDays: 30, archiveDir: path.join(dir, 'archive-by-age') };
    expect(await retentionCut(app.core.store, policy)).toBe(0);
    expect(await retentionCut(app.core.store, policy, { now: in31Days })).toBe(last - 1);

    writeFileSync(path.join(dir, 'not-a-folder'), '');
    await expect(
      applyRetention(
        app.core.audit,
        app.core.store,
        app.core.crypto.auditKey,
        { ...policy, archiveDir: path.join(dir, 'not-a-folder') },
        { now: in31Days },
      ),
    ).rejects.toThrow();
    expect((await app.core.audit.base()).seq).toBe(0);
    expect(await app.core.store.audit.count()).toBe(last);

    const done = await applyRetention(app.core.audit, app.core.store, app.core.crypto.auditKey, policy, {
      now: in31Days,
      chunk: 500,
    });
    expect(done.map((r) => [r.fromSeq, r.toSeq])).toEqual([
      [1, 500],
      [501, 1000],
      [1001, last - 1],
    ]);
    expect(await app.core.audit.verify()).toMatchObject({ ok: true, fromSeq: last, checked: 1 });
  });
});
