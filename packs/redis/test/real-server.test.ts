import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { cli, probe, requireRedis, uniqueName } from './server.js';

describe('redis probes against the real server on 127.0.0.1:6379', () => {
  const key = uniqueName('sonde:test');
  // Database 14 is used by this test only (the other tests use 11), so the count it checks is its own.
  const db = '14';
  const other = '11';

  beforeAll(requireRedis);
  afterAll(async () => {
    await cli('-n', db, 'DEL', key).catch(() => undefined);
  });

  it('keyspace counts a key this test sets, with its TTL', async () => {
    const before = await probe('keyspace');
    const countBefore = before.databases.find((d: { db: number }) => d.db === 14)?.keys ?? 0;
    expect(await cli('-n', db, 'SET', key, 'v', 'EX', '300')).toBe('OK');
    const after = await probe('keyspace');
    const mine = after.databases.find((d: { db: number }) => d.db === 14);
    expect(mine.keys).toBe(countBefore + 1);
    expect(mine.expires).toBeGreaterThanOrEqual(1);
    expect(after.totalKeys).toBeGreaterThanOrEqual(mine.keys);
  });

  it('info and memory agree with the server', async () => {
    const info = await probe('info', { section: 'all' });
    expect(info.version).toBe((await cli('INFO', 'server')).match(/redis_version:(\S+)/)![1]);
    expect(info.sections.commandstats).toBeDefined();
    const memory = await probe('memory');
    expect(memory.usedBytes).toBeGreaterThan(0);
    expect(memory.stats['keys.count']).toEqual(expect.any(Number));
  });

  it('slowlog records a command this test runs once the threshold is 0 (restored afterwards)', async () => {
    const previous = (await cli('CONFIG', 'GET', 'slowlog-log-slower-than')).split('\n')[1];
    const marker = uniqueName('sonde:slow');
    try {
      await cli('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
      await cli('-n', other, 'GET', marker);
      const result = await probe('slowlog', { count: 128 });
      expect(result.entries.some((e: { command: string[] }) => e.command[0] === 'GET' && e.command[1] === marker)).toBe(true);
      expect(result.length).toBeGreaterThanOrEqual(1);
    } finally {
      await cli('CONFIG', 'SET', 'slowlog-log-slower-than', previous);
    }
    expect((await cli('CONFIG', 'GET', 'slowlog-log-slower-than')).split('\n')[1]).toBe(previous);
  });

  it('clients.list sees the probe itself and a blocked client this test opens', async () => {
    const list = uniqueName('sonde:list');
    // Released by the RPUSH below; the timeout only bounds a failed test.
    const blocker = cli('-n', other, 'BLPOP', list, '30').catch(() => undefined);
    const deadline = Date.now() + 15_000;
    while (!(await cli('CLIENT', 'LIST')).includes('cmd=blpop') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    try {
      const result = await probe('clients.list');
      expect(result.clients.some((c: { lastCommand: string }) => c.lastCommand === 'client|list')).toBe(true);
      expect(result.clients.some((c: { lastCommand: string; flags: string }) => c.lastCommand === 'blpop' && c.flags.includes('b'))).toBe(
        true,
      );
      expect(result.blocked).toBeGreaterThanOrEqual(1);
    } finally {
      await cli('-n', other, 'RPUSH', list, 'done');
      await blocker;
      await cli('-n', other, 'DEL', list);
    }
  });

  it('latency and the runbook run against the real server', async () => {
    expect((await probe('latency')).events).toEqual(expect.any(Array));
    const runbook = pack.runbooks[0];
    const results: Record<string, unknown> = {};
    for (const step of runbook.steps) results[step.probe] = await probe(step.probe, step.params ?? {});
    const findings = runbook.evaluate(results);
    expect(findings.map((f) => f.probe)).toEqual(['info', 'memory', 'slowlog']);
  });

  it('the README ACL user, with its password from REDISCLI_AUTH in the context env, can run every probe', async () => {
    const user = `sonde_m_${process.pid}_${Date.now().toString(36)}`;
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    await cli(
      'ACL',
      'SETUSER',
      user,
      'on',
      `>${password}`,
      'resetkeys',
      'resetchannels',
      '-@all',
      '+ping',
      '+info',
      '+memory|stats',
      '+slowlog|get',
      '+slowlog|len',
      '+client|list',
      '+latency|latest',
      '+hello',
    );
    try {
      for (const name of pack.probes.keys()) await probe(name, { user }, { REDISCLI_AUTH: password });
      const clients = await probe('clients.list', { user }, { REDISCLI_AUTH: password });
      expect(clients.clients.some((c: { user: string; lastCommand: string }) => c.user === user && c.lastCommand === 'client|list')).toBe(
        true,
      );
      await expect(probe('info', { user }, { REDISCLI_AUTH: 'wrong' })).rejects.toMatchObject({ details: { reason: 'auth-failed' } });
    } finally {
      await cli('ACL', 'DELUSER', user);
    }
  });

  it('an ACL user without INFO permission gets a clear permission failure; a closed port a clear refusal', async () => {
    const user = `sonde_t_${process.pid}_${Date.now().toString(36)}`;
    await cli('ACL', 'SETUSER', user, 'on', 'nopass', '-@all', '+ping');
    try {
      // The agent sets REDISCLI_AUTH when it creates the context; a nopass user accepts any password.
      await expect(probe('info', { user }, { REDISCLI_AUTH: 'unused' })).rejects.toMatchObject({
        code: 'SONDE_ERR_COMMAND_FAILED',
        details: { reason: 'permission-denied' },
      });
    } finally {
      await cli('ACL', 'DELUSER', user);
    }
    await expect(probe('info', { port: 1 })).rejects.toMatchObject({ details: { reason: 'connection-refused' } });
  });
});
