import { probeNames, runProbeWithFixtures, type Fixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { evaluateCluster } from '../src/runbooks/cluster-health.js';
import { recorded } from './recorded.js';

const E = 'https://pve1.example.com:8006';
const api = (path: string) => `${E}/api2/json/${path}`;
const TOKEN = { tokenId: 'sonde@pve!monitor', tokenSecret: 'd2a6c0f4-1b7e-4c55-9a3e-5f1d2c3b4a59' };

const fixtures: Fixtures = {
  endpoint: E,
  credentials: TOKEN,
  http: [
    { url: api('version'), body: recorded('version.json') },
    { url: api('cluster/status'), body: recorded('cluster-status.json') },
    { url: api('nodes'), body: recorded('nodes.json') },
    { url: api('cluster/resources?type=vm'), body: recorded('cluster-resources-vm.json') },
    { url: api('nodes/pve1/storage'), body: recorded('storage-pve1.json') },
    { url: api('cluster/tasks'), body: recorded('cluster-tasks.json') },
  ],
};

describe('proxmox pack manifest', () => {
  it('six read-only open-world probes on declared API paths, token credentials', () => {
    expect(probeNames(pack)).toEqual([
      'proxmox.cluster.status',
      'proxmox.nodes.list',
      'proxmox.vms.list',
      'proxmox.node.storage',
      'proxmox.tasks.recent',
      'proxmox.version',
    ]);
    expect(pack.manifest.kind).toBe('integration');
    expect(pack.manifest.probes.every((p) => p.openWorld && p.capability === 'observe')).toBe(true);
    expect(pack.manifest.permissions.network.flatMap((n) => n.paths ?? []).every((p) => p.startsWith('/api2/json/'))).toBe(true);
    expect(pack.manifest.permissions.credentials.map((c) => c.name)).toEqual(['tokenId', 'tokenSecret']);
  });
});

describe('proxmox probes on documented answers', () => {
  it('cluster.status: quorum and the offline node', async () => {
    const { result } = await runProbeWithFixtures(pack, 'cluster.status', {}, fixtures);
    expect(result).toEqual({
      cluster: { name: 'lab', quorate: true, nodes: 3, version: 7 },
      nodes: [
        { name: 'pve1', nodeid: 1, ip: '10.0.0.11', online: true, local: true },
        { name: 'pve2', nodeid: 2, ip: '10.0.0.12', online: true, local: false },
        { name: 'pve3', nodeid: 3, ip: '10.0.0.13', online: false, local: false },
      ],
      online: 2,
      offline: 1,
    });
  });

  it('nodes.list: percentages, and an offline node without figures', async () => {
    const { result } = await runProbeWithFixtures<{ nodes: Array<Record<string, unknown>> }>(pack, 'nodes.list', {}, fixtures);
    expect(result.nodes[0]).toMatchObject({
      node: 'pve1',
      status: 'online',
      cpuPercent: 4.1,
      cores: 16,
      memPercent: 89.3,
      rootPercent: 11.7,
    });
    expect(result.nodes[2]).toMatchObject({ node: 'pve3', status: 'offline', cpuPercent: null, memPercent: null });
    expect(JSON.stringify(result)).not.toContain('ssl_fingerprint');
  });

  it('vms.list: guests without templates, filters and counts', async () => {
    const { result } = await runProbeWithFixtures<{ counts: Record<string, number>; guests: Array<Record<string, unknown>> }>(
      pack,
      'vms.list',
      {},
      fixtures,
    );
    expect(result.counts).toEqual({ running: 2, stopped: 1 });
    expect(result.guests.map((g) => g.vmid)).toEqual([100, 101, 200]);
    expect(result.guests[0]).toMatchObject({ name: 'web01', type: 'qemu', memPercent: 75, haState: 'started', tags: ['prod', 'web'] });
    expect(result.guests[1]).toMatchObject({ status: 'stopped', lock: 'backup' });
    const lxc = await runProbeWithFixtures<{ guests: unknown[] }>(pack, 'vms.list', { type: 'lxc', node: 'pve1' }, fixtures);
    expect(lxc.result.guests).toHaveLength(1);
    const stopped = await runProbeWithFixtures<{ guests: unknown[]; counts: Record<string, number> }>(
      pack,
      'vms.list',
      { status: 'stopped' },
      fixtures,
    );
    expect(stopped.result.guests).toHaveLength(1);
    expect(stopped.result.counts).toEqual({ running: 2, stopped: 1 });
  });

  it('node.storage: fullest first, inactive storage flagged', async () => {
    const { result } = await runProbeWithFixtures<{ storages: Array<Record<string, unknown>> }>(
      pack,
      'node.storage',
      { node: 'pve1' },
      fixtures,
    );
    expect(result.storages.map((s) => s.storage)).toEqual(['local-lvm', 'local', 'nas-backup']);
    expect(result.storages[0]).toMatchObject({ usedPercent: 95.1, content: ['images', 'rootdir'] });
    expect(result.storages[2]).toMatchObject({ active: false, enabled: true, shared: true, usedPercent: null });
  });

  it('tasks.recent: failed tasks newest first; warnings and running tasks are not failures', async () => {
    const { result } = await runProbeWithFixtures<{
      failed: number;
      running: number;
      tasks: Array<Record<string, string | number | null>>;
    }>(pack, 'tasks.recent', {}, fixtures);
    expect(result.failed).toBe(2);
    expect(result.running).toBe(1);
    expect(result.tasks.map((t) => `${t.type}:${t.id}:${t.status}`)).toEqual([
      'vzdump:101:job errors',
      'qmstart:102:start failed: QEMU exited with code 1',
    ]);
    expect(result.tasks[0]).toMatchObject({ durationSeconds: 82, start: '2024-11-23T17:16:48.000Z' });
    const all = await runProbeWithFixtures<{ tasks: unknown[] }>(pack, 'tasks.recent', { onlyFailed: false, node: 'pve2' }, fixtures);
    expect(all.result.tasks).toHaveLength(2);
  });

  it('version', async () => {
    expect((await runProbeWithFixtures(pack, 'version', {}, fixtures)).result).toEqual({
      version: '8.2.4',
      release: '8.2',
      repoid: 'faa83925c9641325',
    });
  });

  it('missing or malformed token credentials are refused before any request', async () => {
    for (const credentials of [
      {} as Record<string, string>,
      { tokenId: 'root@pam', tokenSecret: TOKEN.tokenSecret },
      { ...TOKEN, tokenSecret: 'x\r\nEvil: 1' },
    ]) {
      const run = await runProbeWithFixtures(pack, 'version', {}, { ...fixtures, credentials }).catch((e: unknown) => e);
      expect(run).toMatchObject({ code: 'SONDE_ERR_PROBE_FAILED', message: expect.stringMatching(/token/i) });
    }
  });

  it('the runbook flags lost quorum as critical', async () => {
    const { result } = await runProbeWithFixtures(
      pack,
      'cluster.status',
      {},
      {
        ...fixtures,
        http: [{ url: api('cluster/status'), body: recorded('cluster-status-noquorum.json') }],
      },
    );
    expect(evaluateCluster(result as Parameters<typeof evaluateCluster>[0])).toMatchObject({
      severity: 'critical',
      summary: 'cluster lab has lost quorum (offline: pve2, pve3)',
    });
  });
});

describe('proxmox runbook through the harness', () => {
  it('runs its steps on the documented answers and reports the offline node and the failed tasks', async () => {
    const runbook = pack.runbooks[0];
    const results: Record<string, unknown> = {};
    for (const step of runbook.steps)
      results[step.probe] = (await runProbeWithFixtures(pack, step.probe, step.params ?? {}, fixtures)).result;
    expect(runbook.evaluate(results)).toEqual([
      { severity: 'critical', summary: 'node(s) offline: pve3', probe: 'cluster.status' },
      { severity: 'ok', summary: 'no node above 90% memory or root disk', probe: 'nodes.list' },
      { severity: 'warning', summary: '2 failed task(s) recently; e.g. vzdump 101 on pve1: job errors', probe: 'tasks.recent' },
    ]);
    expect(runbook.evaluate({ ...results, 'nodes.list': { error: { message: 'timeout' } } })[1]).toMatchObject({ severity: 'critical' });
  });
});
