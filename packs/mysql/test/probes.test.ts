import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { fixture, RECORDED_CONNECTION } from './recorded.js';
import type { Loose } from './server.js';

const run = (probe: string, params: Record<string, unknown>, names: string[]) =>
  runProbeWithFixtures<Loose>(pack, probe, { ...RECORDED_CONNECTION, ...params }, { commands: names.map(fixture) });

describe('mysql probes on recorded output (harness checks the declared argv shapes)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['databases.list', {}, ['databases']],
    ['processlist', {}, ['processlist']],
    ['status', {}, ['status']],
    ['variables.important', {}, ['variables']],
    ['replication.status', {}, ['server', 'replicaStatus', 'masterStatus']],
    ['innodb.status', {}, ['innodb']],
  ];

  it('covers every probe of the pack', () => {
    expect(cases.map(([probe]) => probe).sort()).toEqual([...pack.probes.keys()].sort());
  });

  it.each(cases)('%s returns a result that matches its schema', async (probe, params, names) => {
    const { result, calls } = await run(probe, params, names);
    expect(pack.probes.get(probe)!.result.safeParse(result).success).toBe(true);
    expect(calls.commands.map((c) => c.binary)).toEqual(names.map(() => 'mariadb'));
  });

  it('falls back to the mysql client when mariadb is not installed', async () => {
    const recorded = fixture('status');
    const { result, calls } = await runProbeWithFixtures<Loose>(pack, 'status', RECORDED_CONNECTION, {
      commands: [
        { ...recorded, fail: 'not-found' },
        { ...recorded, binary: 'mysql' },
      ],
    });
    expect(calls.commands.map((c) => c.binary)).toEqual(['mariadb', 'mysql']);
    expect(result.uptimeSeconds).toBeGreaterThan(0);
    await expect(
      runProbeWithFixtures(pack, 'status', RECORDED_CONNECTION, {
        commands: [
          { ...recorded, fail: 'not-found' },
          { ...recorded, binary: 'mysql', fail: 'not-found' },
        ],
      }),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_COMMAND_NOT_FOUND', message: 'neither the mariadb nor the mysql client is installed' });
  });

  it('replication: falls back to SHOW SLAVE STATUS on servers without SHOW REPLICA STATUS, and tolerates a refused SHOW MASTER STATUS', async () => {
    const { result } = await runProbeWithFixtures<Loose>(pack, 'replication.status', RECORDED_CONNECTION, {
      commands: [
        fixture('server'),
        {
          ...fixture('replicaStatus'),
          exitCode: 1,
          stdout: '',
          stderr: 'ERROR 1064 (42000) at line 1: You have an error in your SQL syntax\n',
        },
        fixture('slaveStatus'),
        { ...fixture('masterStatus'), exitCode: 1, stdout: '', stderr: fixture('error-permission-denied').stderr! },
      ],
    });
    expect(result).toMatchObject({ configured: false, role: 'standalone', replica: null });
  });

  it('replication on a real replica: healthy is ok, a replica that cannot reach its source is critical', async () => {
    const replica = { host: '127.0.0.1', port: 23307, user: 'root' };
    const healthy = await runProbeWithFixtures<Loose>(pack, 'replication.status', replica, {
      commands: ['replica-server', 'replica-replicaStatus', 'replica-masterStatus'].map(fixture),
    });
    expect(healthy.result).toMatchObject({ role: 'replica', replica: { ioRunning: 'Yes', secondsBehind: 0 } });
    const broken = await runProbeWithFixtures<Loose>(pack, 'replication.status', replica, {
      commands: ['replica-server', 'replica-broken-replicaStatus', 'replica-masterStatus'].map(fixture),
    });
    const runbook = pack.runbooks[0];
    const evaluate = (replication: unknown) =>
      runbook.evaluate({
        status: { threadsConnected: 1, counters: {} },
        processlist: { running: 0, longestQuery: null },
        'replication.status': replication,
      })[2];
    expect(evaluate(healthy.result)).toEqual({ severity: 'ok', probe: 'replication.status', summary: 'replica running, 0 s behind' });
    expect(evaluate(broken.result)).toMatchObject({
      severity: 'critical',
      summary: expect.stringMatching(/^replica threads IO=Connecting SQL=Yes: error connecting to master/),
    });
  });

  it('server down, unknown account and missing PROCESS privilege are coded failures', async () => {
    await expect(run('status', { port: 1 }, ['error-connection-refused'])).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/^mysql at 127\.0\.0\.1:1: cannot connect/),
      details: { reason: 'connection-refused', errno: 2002 },
    });
    await expect(run('status', { user: 'sonde_no_such_user' }, ['error-auth-failed'])).rejects.toMatchObject({
      details: { reason: 'auth-failed' },
    });
    await expect(run('innodb.status', { user: 'sonde_rec' }, ['error-permission-denied'])).rejects.toMatchObject({
      details: { reason: 'permission-denied', errno: 1227 },
    });
  });

  it('the runbook: findings from recorded results, and critical when a step failed', async () => {
    const runbook = pack.runbooks[0];
    const results: Record<string, unknown> = {};
    for (const [probe, params, names] of cases) results[probe] = (await run(probe, params, names)).result;
    const findings = runbook.evaluate(results);
    expect(findings.map((f) => [f.probe, f.severity])).toEqual([
      ['status', 'ok'],
      ['processlist', 'ok'],
      ['replication.status', 'ok'],
    ]);
    expect(findings[2].summary).toBe('standalone: replication is not configured');
    const broken = runbook.evaluate({
      ...results,
      processlist: { ...(results.processlist as Loose), longestQuery: { id: 9, timeSeconds: 400 } },
      'replication.status': {
        configured: true,
        role: 'replica',
        replica: { ioRunning: 'No', sqlRunning: 'Yes', lastIoError: 'error connecting to master', lastSqlError: null, secondsBehind: null },
      },
    });
    expect(broken.slice(1)).toEqual([
      { severity: 'critical', probe: 'processlist', summary: 'a query has run 400 s (thread 9)' },
      { severity: 'critical', probe: 'replication.status', summary: 'replica threads IO=No SQL=Yes: error connecting to master' },
    ]);
    expect(runbook.evaluate({}).every((f) => f.severity === 'critical')).toBe(true);
  });
});
