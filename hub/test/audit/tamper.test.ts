import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStoreBackdoor } from '../../src/store/testing.js';
import { tempDir, TEST_SECRET } from '../helpers.js';
import { runCli } from '../process.js';

/**
 * Issue 19: the audit log against someone holding the database (not the hub's data folder, not SONDE_SECRET).
 * Each attack runs on a real database written by the real CLI and is judged by `sonde-hub audit verify`, the
 * command an operator runs.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function hubWithHistory(actions: number) {
  const { dir, cleanup } = tempDir('sonde-tamper-');
  cleanups.push(cleanup);
  const env = { SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: path.join(dir, 'sonde.db') };
  const act = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const created = await runCli(['keys', 'create', '--name', `key-${Date.now()}-${i}`, '--role', 'member', '--json'], env);
      expect(created.code).toBe(0);
    }
  };
  await act(actions);
  const verify = (...flags: string[]) => runCli(['audit', 'verify', ...flags, '--json'], env);
  return { dir, env, act, verify };
}

/** The settings row as stored (what an attacker reads to keep an old signed head). */
async function setting(dbPath: string, key: string): Promise<string> {
  const backdoor = await openStoreBackdoor(dbPath);
  try {
    const tables = JSON.parse(await backdoor.dumpText()) as [string, { key?: string; value?: string }[]][];
    const settings = tables.find(([name]) => name === 'settings')![1];
    return settings.find((row) => row.key === key)!.value!;
  } finally {
    await backdoor.close();
  }
}

describe('audit tamper-evidence against someone holding the database', () => {
  it('deleting the newest entries and putting back an older signed head is detected', async () => {
    const hub = await hubWithHistory(3);
    expect((await hub.verify()).code).toBe(0);
    const oldHead = await setting(hub.env.SONDE_DB_PATH, 'audit.head');
    const oldSeq = Number(oldHead.split(':')[1]);
    await hub.act(3);
    expect((await hub.verify()).code).toBe(0);

    // The attack: the rows after the old head go, the old (validly MACed) head comes back. The chain alone is intact.
    const backdoor = await openStoreBackdoor(hub.env.SONDE_DB_PATH);
    await backdoor.deleteAuditRows(oldSeq + 1, oldSeq + 1000);
    await backdoor.setSetting('audit.head', oldHead);
    await backdoor.close();

    const result = await hub.verify('--full');
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, firstBrokenSeq: oldSeq + 1, lastSeq: oldSeq });
    expect(result.stderr).toMatch(/anchor outside the database records entry \d+ \(the database was rolled back\)/);
  });

  it('putting back last week\u2019s whole database file is detected', async () => {
    const hub = await hubWithHistory(2);
    expect((await hub.verify()).code).toBe(0);
    const copy = path.join(hub.dir, 'old-copy.db');
    copyFileSync(hub.env.SONDE_DB_PATH, copy);
    await hub.act(2);
    expect((await hub.verify()).code).toBe(0);
    for (const suffix of ['-wal', '-shm']) rmSync(`${hub.env.SONDE_DB_PATH}${suffix}`, { force: true });
    copyFileSync(copy, hub.env.SONDE_DB_PATH);

    const result = await hub.verify();
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/the database was rolled back/);
  });

  it('rolling back and appending new entries in place of the removed ones is detected', async () => {
    const hub = await hubWithHistory(2);
    expect((await hub.verify()).code).toBe(0);
    const copy = path.join(hub.dir, 'old-copy.db');
    copyFileSync(hub.env.SONDE_DB_PATH, copy);
    await hub.act(2);
    expect((await hub.verify()).code).toBe(0);
    copyFileSync(copy, hub.env.SONDE_DB_PATH);
    for (const suffix of ['-wal', '-shm']) rmSync(`${hub.env.SONDE_DB_PATH}${suffix}`, { force: true });
    // Whoever rolled it back now writes as many entries through the hub's own code (the chain is valid again)...
    // but not the ones that were there: the anchored entry differs.
    const anchorFile = `${hub.env.SONDE_DB_PATH}.audit-anchor`;
    const anchor = readFileSync(anchorFile, 'utf8');
    await hub.act(2);
    writeFileSync(anchorFile, anchor);
    const result = await hub.verify();
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/is not the one the anchor outside the database records|the database was rolled back/);
  });

  it('editing an entry an earlier verify checkpointed fails the default verify (the checkpoint is re-checked, not trusted)', async () => {
    const hub = await hubWithHistory(3);
    expect((await hub.verify()).code).toBe(0);
    const backdoor = await openStoreBackdoor(hub.env.SONDE_DB_PATH);
    await backdoor.editAuditRow(2, { detail: 'rewritten' });
    await backdoor.close();
    const result = await hub.verify();
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, firstBrokenSeq: 2, full: true });
    // The fast mode says what it does not check: an old edit passes it.
    const quick = await hub.verify('--since-checkpoint');
    expect(JSON.parse(quick.stdout)).toMatchObject({ full: false });
  });

  it('an altered anchor file is reported', async () => {
    const hub = await hubWithHistory(2);
    expect((await hub.verify()).code).toBe(0);
    const anchorFile = `${hub.env.SONDE_DB_PATH}.audit-anchor`;
    expect(existsSync(anchorFile)).toBe(true);
    const [version, seq, hash, mac] = readFileSync(anchorFile, 'utf8').trim().split(' ');
    writeFileSync(anchorFile, `${version} ${Number(seq) - 1} ${hash} ${mac}\n`);
    const result = await hub.verify();
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/anchor .* was altered/);
  });
});
