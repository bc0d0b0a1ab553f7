import { describe, expect, it } from 'vitest';
import { nameValueMap, parseBatch, unescapeValue } from '../src/parsers/batch.js';
import { classifyMysqlError } from '../src/parsers/client-error.js';
import { parseDatabases } from '../src/parsers/databases.js';
import { parseInnodbStatus } from '../src/parsers/innodb.js';
import { parseThreads, summarizeThreads } from '../src/parsers/processlist.js';
import { parseReplica, parseReplication } from '../src/parsers/replication.js';
import { parseStatus } from '../src/parsers/status.js';
import { parseVariables } from '../src/parsers/variables.js';
import { recorded } from './recorded.js';

const batch = (name: string) => parseBatch(recorded(name).stdout);

describe('mysql parsers on recorded MariaDB client output', () => {
  it('batch output: header, rows, NULL and escapes', () => {
    expect(parseBatch('a\tb\nx\\ty\tNULL\n')).toEqual({ columns: ['a', 'b'], rows: [{ a: 'x\ty', b: null }] });
    expect(unescapeValue('line1\\nline2\\\\n')).toBe('line1\nline2\\n');
    expect(parseBatch('')).toEqual({ columns: [], rows: [] });
  });

  it('databases: schemas with sizes and table counts', () => {
    const result = parseDatabases(batch('databases'));
    expect(result.databases.find((d) => d.name === 'test')).toEqual({ name: 'test', sizeBytes: 16384, tables: 1, system: false });
    expect(result.databases.find((d) => d.name === 'mysql')?.system).toBe(true);
  });

  it('processlist: the recorded sleepers and the lock waiter', () => {
    const threads = parseThreads(batch('processlist'));
    expect(threads).toContainEqual({
      id: 26,
      user: 'root',
      host: '127.0.0.1:42732',
      database: 'test',
      command: 'Query',
      timeSeconds: 1,
      state: 'Updating',
      info: 'UPDATE sonde_capture SET v=4 WHERE id=1',
    });
    const summary = summarizeThreads(threads);
    expect(summary).toMatchObject({ total: 3, running: 3, byCommand: { Query: 3 }, byUser: { root: 3 } });
    expect(summarizeThreads(threads, 60).threads).toEqual([]);
  });

  it('status: counters and derived rates', () => {
    const status = parseStatus(batch('status'));
    expect(status.uptimeSeconds).toBeGreaterThan(0);
    expect(status.threadsConnected).toBeGreaterThanOrEqual(1);
    expect(status.counters.Innodb_deadlocks).toBeGreaterThanOrEqual(1);
    expect(status.questionsPerSecond).toBeCloseTo(status.counters.Questions! / status.uptimeSeconds!, 3);
    expect(nameValueMap(batch('status')).size).toBeGreaterThan(300);
  });

  it('variables: the listed ones, and which this server lacks', () => {
    const result = parseVariables(batch('variables'));
    expect(result.variables.find((v) => v.name === 'max_connections')).toEqual({ name: 'max_connections', value: '151', number: 151 });
    expect(result.variables.find((v) => v.name === 'version')?.value).toMatch(/MariaDB/);
    expect(result.missing).not.toContain('max_connections');
  });

  it('replication: not configured on the recorded server (empty SHOW REPLICA STATUS, binlog off)', () => {
    expect(batch('replicaStatus')).toEqual({ columns: [], rows: [] });
    expect(parseReplication(batch('server'), batch('replicaStatus'), batch('masterStatus'))).toEqual({
      configured: false,
      role: 'standalone',
      serverId: 1,
      readOnly: false,
      binaryLog: { enabled: false, file: null, position: null },
      replica: null,
    });
  });

  it('replication: a real MariaDB source and its replica (private pair, see capture-replication.ts)', () => {
    expect(parseReplication(batch('source-server'), batch('source-replicaStatus'), batch('source-masterStatus'))).toEqual({
      configured: true,
      role: 'source',
      serverId: 1,
      readOnly: false,
      binaryLog: { enabled: true, file: 'source-bin.000001', position: 792 },
      replica: null,
    });
    expect(parseReplication(batch('replica-server'), batch('replica-replicaStatus'), batch('replica-masterStatus'))).toEqual({
      configured: true,
      role: 'replica',
      serverId: 2,
      readOnly: true,
      binaryLog: { enabled: false, file: null, position: null },
      replica: {
        sourceHost: '127.0.0.1',
        sourcePort: 23306,
        ioRunning: 'Yes',
        sqlRunning: 'Yes',
        secondsBehind: 0,
        lastIoError: null,
        lastSqlError: null,
        usingGtid: 'Slave_Pos',
        state: 'Waiting for master to send event',
      },
    });
    expect(parseReplica(batch('replica-broken-replicaStatus'))).toMatchObject({
      ioRunning: 'Connecting',
      sqlRunning: 'Yes',
      secondsBehind: null,
      lastIoError: expect.stringMatching(/^error connecting to master 'repl@127\.0\.0\.1:1'/),
    });
  });

  it('replication: MySQL 8 (Source/Replica) and MariaDB (Master/Slave) column names read the same', () => {
    const mysql8 = parseBatch(
      'Replica_IO_State\tSource_Host\tSource_Port\tReplica_IO_Running\tReplica_SQL_Running\tSeconds_Behind_Source\tLast_IO_Error\tLast_SQL_Error\nWaiting for source to send event\tdb1\t3306\tYes\tYes\t4\t\t\n',
    );
    const mariadb = parseBatch(
      'Slave_IO_State\tMaster_Host\tMaster_Port\tSlave_IO_Running\tSlave_SQL_Running\tSeconds_Behind_Master\tLast_IO_Error\tLast_SQL_Error\tUsing_Gtid\nWaiting for master to send event\tdb1\t3306\tYes\tYes\t4\t\t\tSlave_Pos\n',
    );
    expect({ ...parseReplica(mysql8), usingGtid: null, state: null }).toEqual({ ...parseReplica(mariadb), usingGtid: null, state: null });
    expect(parseReplica(mariadb)).toMatchObject({ sourceHost: 'db1', secondsBehind: 4, ioRunning: 'Yes', usingGtid: 'Slave_Pos' });
  });

  it('innodb: lock wait, deadlock, buffer pool and log from the recorded monitor output', () => {
    const result = parseInnodbStatus(batch('innodb'));
    expect(result.sections).toEqual(expect.arrayContaining(['TRANSACTIONS', 'LATEST DETECTED DEADLOCK', 'BUFFER POOL AND MEMORY', 'LOG']));
    expect(result.lockWaits).toBe(1);
    expect(result.activeTransactions).toBe(2);
    expect(result.historyListLength).toBe(0);
    expect(result.latestDeadlock?.text).toMatch(/sonde_capture/);
    expect(result.latestDeadlock?.at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(result.bufferPool.sizePages).toBeGreaterThan(0);
    expect(result.log.checkpointAgeBytes).toBe(result.log.sequenceNumber! - result.log.lastCheckpoint!);
    expect(result.generatedAt).toMatch(/^\d{4}-/);
  });

  it('classifies recorded client errors', () => {
    expect(classifyMysqlError(recorded('error-connection-refused').stderr)).toMatchObject({ reason: 'connection-refused', errno: 2002 });
    expect(classifyMysqlError(recorded('error-auth-failed').stderr)).toEqual({
      reason: 'auth-failed',
      errno: 1698,
      message: "authentication failed: Access denied for user 'sonde_no_such_user'@'127.0.0.1'",
    });
    expect(classifyMysqlError(recorded('error-permission-denied').stderr)).toMatchObject({ reason: 'permission-denied', errno: 1227 });
    expect(classifyMysqlError('ERROR 1064 (42000) at line 1: You have an error in your SQL syntax')).toMatchObject({ reason: 'syntax' });
  });
});
