import { describe, expect, it } from 'vitest';
import { parseBlocking } from '../src/parsers/blocking.js';
import { parseDatabases } from '../src/parsers/databases.js';
import { parseJsonLines } from '../src/parsers/json-lines.js';
import { classifyPsqlError } from '../src/parsers/psql-error.js';
import { parseReplication } from '../src/parsers/replication.js';
import { parseMaxConnections, parseSessions, summarizeConnections } from '../src/parsers/sessions.js';
import { parseSettings, settingBytes } from '../src/parsers/settings.js';
import { parseStatementsInstalled } from '../src/parsers/statements.js';
import { parseVersion } from '../src/parsers/version.js';
import { recorded } from './recorded.js';

const lines = (name: string, count: number): unknown[] => parseJsonLines(recorded(name).stdout, count);

describe('postgres parsers on recorded psql output', () => {
  it('databases: names, sizes and templates', () => {
    const result = parseDatabases(lines('databases', 1)[0]);
    expect(result.databases.map((d) => d.name)).toEqual(expect.arrayContaining(['postgres', 'test', 'template0']));
    expect(result.databases.find((d) => d.name === 'template0')).toMatchObject({ isTemplate: true, allowConnections: false });
    expect(result.totalBytes).toBe(result.databases.reduce((sum, d) => sum + d.sizeBytes, 0));
  });

  it('sessions: the recorded lock holder and waiter, summarized', () => {
    const [sessions, max] = lines('connections', 2);
    const parsed = parseSessions(sessions);
    expect(parsed.some((s) => s.query === 'select count(*) from sonde_capture_lock' && s.state === 'active')).toBe(true);
    const summary = summarizeConnections(parsed, parseMaxConnections(max));
    expect(summary.maxConnections).toBe(100);
    expect(summary.byState.active).toBeGreaterThanOrEqual(1);
    expect(summary.longestRunning?.state).toBe('active');
    expect(summary.usedPercent).toBe(((parsed.length + 1) / 100) * 100);
  });

  it('blocking: the waiter and its root blocker', () => {
    const result = parseBlocking(lines('blocking', 1)[0]);
    expect(result.blocked).toHaveLength(1);
    expect(result.blocked[0].query).toBe('select count(*) from sonde_capture_lock');
    expect(result.rootBlockers).toEqual(result.blocked[0].blockedBy);
  });

  it('blocking: chains report only the pid at the root', () => {
    const result = parseBlocking([
      { pid: 2, blocked_by: [1], usr: 'a', db: 'x', secs: 5, query: 'q' },
      { pid: 3, blocked_by: [2], usr: 'a', db: 'x', secs: 4, query: 'q' },
    ]);
    expect(result.rootBlockers).toEqual([1]);
  });

  it('empty aggregates (no rows) parse as empty lists', () => {
    expect(parseJsonLines('\n', 1)).toEqual([null]);
    expect(parseBlocking(null)).toEqual({ blocked: [], rootBlockers: [] });
    expect(parseSessions(null)).toEqual([]);
  });

  it('replication: a primary without replicas is "not configured"', () => {
    const [recovery, replicas] = lines('replication', 2);
    expect(parseReplication(recovery, replicas)).toEqual({
      role: 'primary',
      configured: false,
      replayLagSeconds: null,
      walReceiverStatus: null,
      replicas: [],
    });
  });

  it('replication: a real primary with a streaming standby, the standby, and the standby after its primary stopped', () => {
    const [p1, p2] = lines('primary-replication', 2);
    expect(parseReplication(p1, p2)).toEqual({
      role: 'primary',
      configured: true,
      replayLagSeconds: null,
      walReceiverStatus: null,
      replicas: [
        {
          application: 'walreceiver',
          client: '127.0.0.1/32',
          state: 'streaming',
          syncState: 'async',
          replayLagSeconds: 0.08101,
          lagBytes: 0,
        },
      ],
    });
    const [s1, s2] = lines('standby-replication', 2);
    expect(parseReplication(s1, s2)).toMatchObject({ role: 'standby', configured: true, walReceiverStatus: 'streaming', replicas: [] });
    const [d1, d2] = lines('standby-disconnected-replication', 2);
    expect(parseReplication(d1, d2)).toMatchObject({ role: 'standby', walReceiverStatus: null, replayLagSeconds: expect.any(Number) });
  });

  it('settings: memory settings in bytes', () => {
    const [a, b] = lines('settings', 2);
    const result = parseSettings(a, b);
    const shared = result.settings.find((s) => s.name === 'shared_buffers')!;
    expect(shared).toMatchObject({ unit: '8kB', bytes: Number(shared.value) * 8192 });
    expect(result.settings.find((s) => s.name === 'max_connections')).toMatchObject({ value: '100', bytes: null });
    expect(settingBytes('-1', 'kB')).toBeNull();
  });

  it('version and pg_stat_statements availability', () => {
    expect(parseVersion(lines('version', 1)[0])).toMatchObject({ major: 15, versionNum: 150020 });
    expect(parseStatementsInstalled(lines('slow', 2)[1])).toBe(false);
  });

  it('refuses output that is not what the fixed SQL produces', () => {
    expect(() => parseJsonLines('a\nb\n', 1)).toThrow(/2 result lines, expected 1/);
    expect(() => parseJsonLines('not json\n', 1)).toThrow(/not JSON/);
  });

  it('classifies recorded client errors', () => {
    expect(classifyPsqlError(recorded('error-connection-refused').stderr)).toEqual({
      reason: 'connection-refused',
      message: expect.stringMatching(/^connection refused/),
    });
    expect(classifyPsqlError(recorded('error-auth-failed').stderr)).toEqual({
      reason: 'auth-failed',
      message: 'authentication failed: role "sonde_no_such_role" does not exist',
    });
    expect(classifyPsqlError(recorded('error-unknown-database').stderr).reason).toBe('unknown-database');
    expect(classifyPsqlError(recorded('statements').stderr).reason).toBe('missing-relation');
    expect(
      classifyPsqlError(
        'psql: error: connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "x"\n',
      ).reason,
    ).toBe('auth-failed');
  });
});
