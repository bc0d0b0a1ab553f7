import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHostContext, runProbe, type Permissions } from '@sonde/pack-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';

/** Runs a probe on this machine through the real host context (execFile, real files, the guard). */
function onHost(probe: string, params: unknown, permissions: Permissions = pack.manifest.permissions, deniedPaths: string[] = []) {
  return runProbe(pack, probe, params, (signal) => createHostContext({ permissions, signal, deniedPaths }));
}

describe('system probes on this machine', () => {
  it('disk.usage sees the root filesystem', async () => {
    const { result } = await onHost('disk.usage', { includePseudo: true });
    const rows = (result as { filesystems: Array<{ mountpoint: string; sizeBytes: number }> }).filesystems;
    expect(rows.find((row) => row.mountpoint === '/')?.sizeBytes).toBeGreaterThan(0);
  });

  it('memory.usage reads real /proc/meminfo', async () => {
    const { result } = await onHost('memory.usage', {});
    expect((result as { totalBytes: number }).totalBytes).toBeGreaterThan(64 * 1024 * 1024);
  });

  it('load.average, uptime and cpu.usage read procfs', async () => {
    expect(((await onHost('load.average', {})).result as { cpus: number }).cpus).toBeGreaterThanOrEqual(1);
    expect(((await onHost('uptime', {})).result as { uptimeSeconds: number }).uptimeSeconds).toBeGreaterThan(0);
    const cpu = (await onHost('cpu.usage', { sampleMs: 200 })).result as { total: { usagePercent: number } };
    expect(cpu.total.usagePercent).toBeGreaterThanOrEqual(0);
  });

  it('processes.top lists this test process', async () => {
    const { result } = await onHost('processes.top', { sortBy: 'memory', limit: 100 });
    const rows = (result as { processes: Array<{ pid: number }>; totalProcesses: number }).processes;
    expect(rows.length).toBeGreaterThan(1);
    // This worker holds a test runner in memory: it is in the top 100 unless the host runs more than 100 processes.
    expect(rows.some((row) => row.pid === process.pid) || (result as { totalProcesses: number }).totalProcesses > 100).toBe(true);
  });

  it('logs.dmesg reads the kernel log, or names the restriction for an unprivileged user', async () => {
    const outcome = await onHost('logs.dmesg', { lines: 5 }).then(
      ({ result }) => result as { messages: unknown[]; format: string },
      (error: { code: string }) => error,
    );
    if ('code' in outcome) expect(outcome.code).toBe('SONDE_ERR_PERMISSION_DENIED');
    else expect(outcome.messages.length).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync('/usr/bin/journalctl') && !existsSync('/bin/journalctl'))(
    'logs.journal returns typed entries (none on a host without a journal)',
    async () => {
      const { result } = await onHost('logs.journal', { lines: 5 });
      expect(Array.isArray((result as { entries: unknown[] }).entries)).toBe(true);
    },
  );

  it('network.interfaces lists loopback', async () => {
    const { result } = await onHost('network.interfaces', {});
    expect((result as { interfaces: Array<{ name: string }> }).interfaces.map((i) => i.name)).toContain('lo');
  });
});

const installed = (name: string): boolean => ['/usr/bin/', '/bin/', '/usr/sbin/'].some((dir) => existsSync(dir + name));

describe('network probes against loopback', () => {
  it.skipIf(!installed('ping'))('network.ping reaches 127.0.0.1', async () => {
    const { result } = await onHost('network.ping', { host: '127.0.0.1', count: 1, timeoutSeconds: 1 });
    expect(result).toMatchObject({ host: '127.0.0.1', reachable: true, transmitted: 1, received: 1, error: null });
  });

  it.skipIf(!installed('traceroute'))('network.traceroute reaches 127.0.0.1 in one hop', async () => {
    const { result } = await onHost('network.traceroute', { host: '127.0.0.1', maxHops: 3, waitSeconds: 1 });
    expect(result).toMatchObject({ reachedDestination: true, hops: [{ hop: 1, address: '127.0.0.1' }] });
  });
});

describe('logs.tail on real files', () => {
  let dir: string;
  let permissions: Permissions;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sonde-logs-'));
    writeFileSync(
      path.join(dir, 'app.log'),
      Array.from({ length: 500 }, (_, i) => `Nov 24 00:00:${String(i % 60).padStart(2, '0')} host app[7]: line ${i}`).join('\n') + '\n',
    );
    mkdirSync(path.join(dir, 'agent'));
    writeFileSync(path.join(dir, 'agent', 'key.log'), 'PRIVATE KEY\n');
    symlinkSync('/etc/shadow', path.join(dir, 'shadow.log'));
    symlinkSync(path.join(dir, 'agent', 'key.log'), path.join(dir, 'key-link.log'));
    // The test's context declares this temp dir the way the pack declares /var/log/*.log.
    permissions = { ...pack.manifest.permissions, files: [`${dir}/*.log`, `${dir}/agent/*.log`] };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the last lines of a declared file', async () => {
    const { result } = await onHost('logs.tail', { path: path.join(dir, 'app.log'), lines: 3 }, permissions);
    const tail = result as { lines: Array<{ message: string; program: string }>; truncated: boolean };
    expect(tail.lines.map((l) => l.message)).toEqual(['line 497', 'line 498', 'line 499']);
    expect(tail.lines[0].program).toBe('app');
    expect(tail.truncated).toBe(true);
  });

  it('refuses traversal at validation, before any read', async () => {
    await expect(onHost('logs.tail', { path: `${dir}/../../etc/shadow` }, permissions)).rejects.toMatchObject({
      code: 'SONDE_ERR_INVALID_PARAMS',
    });
    await expect(onHost('logs.tail', { path: '/var/log/../../etc/shadow' })).rejects.toMatchObject({ code: 'SONDE_ERR_INVALID_PARAMS' });
  });

  it('refuses a symlink that points out of the declared globs', async () => {
    await expect(onHost('logs.tail', { path: path.join(dir, 'shadow.log') }, permissions)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });

  it("refuses the agent's own files from the host deny list, directly or through a symlink", async () => {
    const denied = [path.join(dir, 'agent')];
    await expect(onHost('logs.tail', { path: path.join(dir, 'agent', 'key.log') }, permissions, denied)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
    await expect(onHost('logs.tail', { path: path.join(dir, 'key-link.log') }, permissions, denied)).rejects.toMatchObject({
      code: 'SONDE_ERR_PERMISSION_DENIED',
    });
  });

  it('refuses undeclared files with the pack defaults', async () => {
    await expect(onHost('logs.tail', { path: '/etc/shadow' })).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
    await expect(onHost('logs.tail', { path: '/var/log/nginx/access.log' })).rejects.toMatchObject({ code: 'SONDE_ERR_PERMISSION_DENIED' });
  });
});
