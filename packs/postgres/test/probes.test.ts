import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { fixture, RECORDED_CONNECTION } from './recorded.js';
import type { Loose } from './server.js';

const run = (probe: string, params: Record<string, unknown>, names: string[]) =>
  runProbeWithFixtures<Loose>(pack, probe, { ...RECORDED_CONNECTION, ...params }, { commands: names.map(fixture) });

function schemaOf(probe: string) {
  return pack.probes.get(probe)!.result;
}

describe('postgres probes on recorded output (harness checks the declared argv shapes)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['databases.list', {}, ['databases']],
    ['connections.active', {}, ['connections']],
    ['queries.slow', { minSeconds: 1 }, ['slow']],
    ['locks.blocking', {}, ['blocking']],
    ['replication.status', {}, ['replication']],
    ['settings.important', {}, ['settings']],
    ['version', {}, ['version']],
  ];

  it('covers every probe of the pack', () => {
    expect(cases.map(([probe]) => probe).sort()).toEqual([...pack.probes.keys()].sort());
  });

  it.each(cases)('%s returns a result that matches its schema', async (probe, params, names) => {
    const { result, calls } = await run(probe, params, names);
    expect(schemaOf(probe).safeParse(result).success).toBe(true);
    expect(calls.commands.every((call) => call.binary === 'psql')).toBe(true);
  });

  it('queries.slow filters by threshold and says why pg_stat_statements is missing', async () => {
    const { result } = await run('queries.slow', { minSeconds: 2 }, ['slow']);
    // The lock holder had run 2.1 s when recorded, its waiter 1.6 s.
    // Statement literals are replaced by default (statementText: 'normalized').
    expect(result.running).toEqual([expect.objectContaining({ query: 'select pg_sleep(?)', state: 'active' })]);
    const all = await run('queries.slow', { minSeconds: 1 }, ['slow']);
    expect(all.result.running.map((s: { querySeconds: number }) => s.querySeconds)).toEqual([2.146, 1.637]);
    expect(result.statements).toEqual({ available: false, reason: 'pg_stat_statements is not installed in this database', top: [] });
    const strict = await run('queries.slow', { minSeconds: 3600 }, ['slow']);
    expect(strict.result.running).toEqual([]);
  });

  it('queries.slow reports pg_stat_statements rows when the extension answers (synthetic rows)', async () => {
    const slow = fixture('slow');
    const statements = fixture('statements');
    const { result } = await runProbeWithFixtures<Loose>(pack, 'queries.slow', RECORDED_CONNECTION, {
      commands: [
        { ...slow, stdout: slow.stdout!.replace('"installed": false', '"installed": true') },
        {
          ...statements,
          exitCode: 0,
          stderr: '',
          stdout: '[{"id": "42", "calls": 3, "rows": 3, "query": "select 1", "mean_ms": 2.5, "total_ms": 7.5}]\n',
        },
      ],
    });
    expect(result.statements).toEqual({
      available: true,
      top: [{ queryId: '42', calls: 3, rows: 3, query: 'select ?', meanMs: 2.5, totalMs: 7.5 }],
    });
  });

  it('queries.slow: installed but unreadable pg_stat_statements is "unavailable" with the reason', async () => {
    const slow = fixture('slow');
    const { result } = await runProbeWithFixtures<Loose>(pack, 'queries.slow', RECORDED_CONNECTION, {
      commands: [{ ...slow, stdout: slow.stdout!.replace('"installed": false', '"installed": true') }, fixture('statements')],
    });
    expect(result.statements.available).toBe(false);
    expect(result.statements.reason).toMatch(/pg_stat_statements/);
  });

  it('replication on real primary/standby recordings: streaming is ok, a standby without its primary is critical', async () => {
    const runbook = pack.runbooks[0];
    const evaluate = async (name: string, port: number) => {
      const { result } = await runProbeWithFixtures(
        pack,
        'replication.status',
        { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' },
        {
          commands: [fixture(name)],
        },
      );
      return runbook.evaluate({
        'connections.active': { usedPercent: 1, maxConnections: 100, total: 0, byState: {} },
        'locks.blocking': { blocked: [], rootBlockers: [] },
        'replication.status': result,
      })[2];
    };
    expect(await evaluate('primary-replication', 25432)).toEqual({
      severity: 'ok',
      probe: 'replication.status',
      summary: '1 replica(s) streaming',
    });
    expect(await evaluate('standby-replication', 25433)).toEqual({
      severity: 'ok',
      probe: 'replication.status',
      summary: 'standby is streaming and current',
    });
    expect(await evaluate('standby-disconnected-replication', 25433)).toEqual({
      severity: 'critical',
      probe: 'replication.status',
      summary: 'standby WAL receiver is not running',
    });
  });

  it('a server that is down is a clear, coded failure', async () => {
    const down = fixture('error-connection-refused');
    await expect(runProbeWithFixtures(pack, 'version', { ...RECORDED_CONNECTION, port: 1 }, { commands: [down] })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/127\.0\.0\.1:1: connection refused/),
      details: { reason: 'connection-refused' },
    });
  });

  it('an unknown role is reported as an authentication failure', async () => {
    await expect(
      runProbeWithFixtures(
        pack,
        'version',
        { ...RECORDED_CONNECTION, user: 'sonde_no_such_role' },
        { commands: [fixture('error-auth-failed')] },
      ),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_COMMAND_FAILED', details: { reason: 'auth-failed' } });
  });

  it('a missing psql binary keeps its own code', async () => {
    const { args } = fixture('version');
    await expect(
      runProbeWithFixtures(pack, 'version', RECORDED_CONNECTION, { commands: [{ binary: 'psql', args, fail: 'not-found' }] }),
    ).rejects.toMatchObject({ code: 'SONDE_ERR_COMMAND_NOT_FOUND' });
  });

  it('the runbook turns results into findings', async () => {
    const runbook = pack.runbooks[0];
    const results: Record<string, unknown> = {};
    for (const step of runbook.steps) {
      const names = { 'connections.active': ['connections'], 'locks.blocking': ['blocking'], 'replication.status': ['replication'] }[
        step.probe
      ]!;
      results[step.probe] = (await run(step.probe, {}, names)).result;
    }
    const findings = runbook.evaluate(results);
    expect(findings.find((f) => f.probe === 'locks.blocking')).toMatchObject({
      severity: 'warning',
      summary: expect.stringMatching(/1 session\(s\) blocked by pid/),
    });
    expect(findings.find((f) => f.probe === 'replication.status')).toMatchObject({
      severity: 'ok',
      summary: expect.stringMatching(/not configured/),
    });
    expect(findings.find((f) => f.probe === 'connections.active')!.severity).toBe('ok');
    const down = runbook.evaluate({ 'connections.active': { error: { code: 'SONDE_ERR_COMMAND_FAILED', message: 'connection refused' } } });
    expect(down.every((f) => f.severity === 'critical')).toBe(true);
    expect(down[0].summary).toBe('could not check: connection refused');
  });
});
