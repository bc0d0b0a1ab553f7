import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../process.js';

/**
 * A backup written by an older hub (schema version 2, hub/test/fixtures/backup-schema-2/README.md)
 * restored on this one: `sonde-hub restore` migrates and verifies it, the hub serves it, the keys
 * made by the old CLI work and the audit chain written by the old code verifies in full.
 */
const FIXTURE = path.join(import.meta.dirname, '../fixtures/backup-schema-2');
const fixture = JSON.parse(readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as {
  secret: string;
  adminKey: string;
  memberKey: string;
  agentName: string;
  auditEntries: number;
};

describe('an older backup restored on this hub', () => {
  const { dir, cleanup } = tempDir('sonde-old-backup-');
  const hubs: RunningHub[] = [];
  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    cleanup();
  });
  const env = (dbPath: string): Record<string, string> => ({
    SONDE_SECRET: fixture.secret,
    SONDE_DB_PATH: dbPath,
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: 'fixture-password-1',
    SONDE_PORT: '0',
    SONDE_LOG_LEVEL: 'info',
  });

  it('sonde-hub restore migrates it and verifies the chain the old code wrote', async () => {
    const target = path.join(dir, 'restored', 'sonde.db');
    const restored = await runCli(['restore', '--from', path.join(FIXTURE, 'sonde.db'), '--json'], env(target));
    expect(restored.stderr).toBe('');
    expect(JSON.parse(restored.stdout)).toMatchObject({ file: target, auditEntries: fixture.auditEntries });

    const hub = await startHubProcess(env(target));
    hubs.push(hub);
    const get = (url: string, key: string) => fetch(`${hub.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
    const agents = (await (await get('/api/v1/agents', fixture.adminKey)).json()) as { name: string }[];
    expect(agents.map((a) => a.name)).toEqual([fixture.agentName]);
    // The member key's scope survived the migration: it may not administer.
    expect((await get('/api/v1/agents', fixture.memberKey)).status).toBe(403);
    expect((await fetch(`${hub.url}/api/v1/ready`)).status).toBe(200);
    // The migrated database backs up at this hub's schema.
    const backup = await runCli(['backup', '--out', path.join(dir, 'again.db'), '--json'], env(target));
    expect(JSON.parse(backup.stdout)).toMatchObject({ schemaVersion: expect.any(Number) });
    expect((JSON.parse(backup.stdout) as { schemaVersion: number }).schemaVersion).toBeGreaterThan(2);
  });

  it('the file put in place by hand migrates on start, and its chain verifies in full', async () => {
    const target = path.join(dir, 'by-hand.db');
    copyFileSync(path.join(FIXTURE, 'sonde.db'), target);
    const hub = await startHubProcess(env(target));
    hubs.push(hub);
    expect(hub.output()).toMatch(/sonde hub listening/);
    const verified = await runCli(['audit', 'verify', '--full', '--json'], env(target));
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, full: true });
  });
});
