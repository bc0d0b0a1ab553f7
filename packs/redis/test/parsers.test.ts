import { describe, expect, it } from 'vitest';
import { parseClientList, summarizeClients } from '../src/parsers/clients.js';
import { num, parseInfo, parseKeyspace, str } from '../src/parsers/info.js';
import { parseLatencyLatest } from '../src/parsers/latency.js';
import { parseMemoryStats, summarizeMemory } from '../src/parsers/memory.js';
import { classifyRedisFailure, errorReply } from '../src/parsers/reply.js';
import { parseSlowlog } from '../src/parsers/slowlog.js';
import { recorded } from './recorded.js';

const out = (name: string): string => recorded(name).stdout;

describe('redis parsers on recorded redis-cli output', () => {
  it('INFO: sections, numbers and nested keyspace values', () => {
    const info = parseInfo(out('info-default'));
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['server', 'clients', 'memory', 'stats', 'replication', 'keyspace']));
    expect(str(info, 'server', 'redis_version')).toBe('7.0.15');
    expect(str(info, 'replication', 'role')).toBe('master');
    expect(num(info, 'memory', 'used_memory')).toBeGreaterThan(0);
    expect(info.keyspace.db0).toEqual({ keys: 2, expires: 1, avg_ttl: expect.any(Number) });
    // Long digit strings such as run ids stay text.
    expect(typeof info.server.run_id).toBe('string');
  });

  it('keyspace: per-db keys and the hit rate', () => {
    const result = parseKeyspace(parseInfo(out('info-keyspace')), parseInfo(out('info-stats')));
    expect(result.databases).toEqual([
      { db: 0, keys: 2, expires: 1, avgTtlMs: expect.any(Number) },
      { db: 3, keys: 1, expires: 0, avgTtlMs: 0 },
    ]);
    expect(result.totalKeys).toBe(3);
    expect(parseKeyspace(parseInfo('# Keyspace\r\n'))).toEqual({ databases: [], totalKeys: 0, hitRate: null });
  });

  it('memory: INFO memory with MEMORY STATS', () => {
    const stats = parseMemoryStats(out('memory-stats'));
    expect(stats['db.3']).toMatchObject({ 'overhead.hashtable.main': expect.any(Number) });
    const result = summarizeMemory(parseInfo(out('info-memory')), stats);
    expect(result.maxmemoryBytes).toBe(0);
    expect(result.usedPercentOfMax).toBeNull();
    expect(result.keys).toBe(3);
    expect(result.usedBytes).toBeGreaterThan(0);
    expect(parseMemoryStats('["keys.count",3,"db.0",{"overhead.hashtable.main":1}]')).toEqual({
      'keys.count': 3,
      'db.0': { 'overhead.hashtable.main': 1 },
    });
    const limited = summarizeMemory(parseInfo('# Memory\r\nused_memory:900\r\nmaxmemory:1000\r\nmaxmemory_policy:allkeys-lru\r\n'), {});
    expect(limited).toMatchObject({ usedPercentOfMax: 90, maxmemoryPolicy: 'allkeys-lru' });
  });

  it('slowlog: entries with time, duration, argv and client', () => {
    const result = parseSlowlog(out('slowlog-get'), out('slowlog-len'));
    expect(result.length).toBe(Number(out('slowlog-len')));
    expect(result.entries).toHaveLength(5);
    const raw = JSON.parse(out('slowlog-get'))[0];
    expect(result.entries[0]).toEqual({
      id: raw[0],
      at: new Date(raw[1] * 1000).toISOString(),
      durationMicros: raw[2],
      command: raw[3],
      client: raw[4],
      clientName: null,
    });
    // Newest first: ids decrease.
    expect(result.entries.map((e) => e.id)).toEqual([...result.entries.map((e) => e.id)].sort((a, b) => b - a));
    expect(result.entries[0].at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('clients: parses CLIENT LIST and finds the blocked client', () => {
    const clients = parseClientList(out('client-list'));
    expect(clients).toHaveLength(2);
    expect(clients[0]).toMatchObject({ flags: 'b', lastCommand: 'blpop', user: 'default', db: 0, name: null });
    const summary = summarizeClients(clients);
    expect(summary).toMatchObject({ total: 2, blocked: 1, byUser: { default: 2 }, byAddress: { '127.0.0.1': 2 } });
  });

  it('latency: empty monitor and recorded spikes', () => {
    expect(parseLatencyLatest(out('latency-latest'))).toEqual({ events: [], note: expect.stringMatching(/latency-monitor-threshold/) });
    expect(parseLatencyLatest('[["command",1700000000,120,250]]').events).toEqual([
      { event: 'command', at: '2023-11-14T22:13:20.000Z', latestMs: 120, maxMs: 250 },
    ]);
  });

  it('classifies recorded failures', () => {
    const refused = recorded('error-connection-refused');
    expect(classifyRedisFailure(refused.stdout, refused.stderr, refused.exitCode)?.reason).toBe('connection-refused');
    const noperm = recorded('error-noperm');
    expect(classifyRedisFailure(noperm.stdout, noperm.stderr, noperm.exitCode)).toEqual({
      reason: 'permission-denied',
      message: "the ACL user may not run this command: NOPERM this user has no permissions to run the 'info' command",
    });
    // redis-cli goes on as the default user after a failed AUTH; the stderr line must still fail the run.
    const auth = recorded('error-auth-failed');
    expect(auth.exitCode).toBe(0);
    expect(classifyRedisFailure(auth.stdout, auth.stderr, auth.exitCode)?.reason).toBe('auth-failed');
    expect(errorReply('error:"ERR unknown command \'X\'"')).toBe("ERR unknown command 'X'");
    expect(errorReply(out('info-default'))).toBeUndefined();
    expect(errorReply(out('client-list'))).toBeUndefined();
  });
});
