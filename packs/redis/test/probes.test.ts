import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';
import { describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { fixture, RECORDED_CONNECTION } from './recorded.js';
import type { Loose } from './server.js';

const run = (probe: string, params: Record<string, unknown>, names: string[]) =>
  runProbeWithFixtures<Loose>(pack, probe, { ...RECORDED_CONNECTION, ...params }, { commands: names.map(fixture) });

describe('redis probes on recorded output (harness checks the declared argv shapes)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['info', {}, ['info-default']],
    ['keyspace', {}, ['info-keyspace', 'info-stats']],
    ['memory', {}, ['info-memory', 'memory-stats']],
    ['slowlog', { count: 5 }, ['slowlog-get', 'slowlog-len']],
    ['clients.list', {}, ['client-list']],
    ['latency', {}, ['latency-latest']],
  ];

  it('covers every probe of the pack', () => {
    expect(cases.map(([probe]) => probe).sort()).toEqual([...pack.probes.keys()].sort());
  });

  it.each(cases)('%s returns a result that matches its schema', async (probe, params, names) => {
    const { result, calls } = await run(probe, params, names);
    expect(pack.probes.get(probe)!.result.safeParse(result).success).toBe(true);
    expect(calls.commands).toHaveLength(names.length);
  });

  it('info gives the headline facts', async () => {
    const { result } = await run('info', {}, ['info-default']);
    expect(result).toMatchObject({ version: '7.0.15', mode: 'standalone', role: 'master', rejectedConnections: 0 });
    expect(result.sections.keyspace.db3).toEqual({ keys: 1, expires: 0, avg_ttl: 0 });
  });

  it('a server that is down, a failed AUTH and a missing ACL permission are coded failures', async () => {
    await expect(run('info', { port: 1 }, ['error-connection-refused'])).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/redis at 127\.0\.0\.1:1: connection refused/),
      details: { reason: 'connection-refused' },
    });
    await expect(run('info', { user: 'sonde_rec_pw' }, ['error-auth-failed'])).rejects.toMatchObject({
      details: { reason: 'auth-failed' },
    });
    await expect(run('info', { user: 'sonde_rec_noperm' }, ['error-noperm'])).rejects.toMatchObject({
      details: { reason: 'permission-denied' },
    });
  });

  it('the runbook: blocked clients warn, no limit and no slow commands are ok; a failed step is critical', async () => {
    const runbook = pack.runbooks[0];
    const info = (await run('info', {}, ['info-default'])).result;
    const memory = (await run('memory', {}, ['info-memory', 'memory-stats'])).result;
    const slowlog = (await run('slowlog', { count: 5 }, ['slowlog-get', 'slowlog-len'])).result;
    const findings = runbook.evaluate({ info, memory, slowlog: { ...slowlog, entries: [] } });
    // The recording was made while a BLPOP client waited.
    expect(findings).toEqual([
      { severity: 'warning', probe: 'info', summary: '1 client(s) blocked in a blocking command' },
      { severity: 'ok', probe: 'memory', summary: expect.stringMatching(/no maxmemory limit set/) },
      { severity: 'ok', probe: 'slowlog', summary: 'no slow commands in the last hour' },
    ]);
    const pressured = runbook.evaluate({
      info: { ...info, rejectedConnections: 3 },
      memory: { ...memory, usedPercentOfMax: 93, maxmemoryPolicy: 'noeviction' },
      slowlog: {
        length: 1,
        entries: [
          { id: 1, at: new Date().toISOString(), durationMicros: 2_000_000, command: ['KEYS', '*'], client: null, clientName: null },
        ],
      },
    });
    expect(pressured).toEqual([
      { severity: 'warning', probe: 'info', summary: '3 connection(s) rejected since start (maxclients reached)' },
      { severity: 'critical', probe: 'memory', summary: 'memory at 93% of maxmemory (noeviction)' },
      { severity: 'critical', probe: 'slowlog', summary: 'a command took 2000 ms in the last hour' },
    ]);
    expect(runbook.evaluate({})[0]).toEqual({ severity: 'critical', probe: 'info', summary: 'could not check: no result' });
  });
});
