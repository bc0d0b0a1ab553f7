import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { MYSQL, probe, requireMysql, sql, uniqueName, untilRunning } from './server.js';

const execFileAsync = promisify(execFile);

describe('mysql probes against the real MariaDB on 127.0.0.1:3306', () => {
  const db = uniqueName('sonde_db');

  beforeAll(async () => {
    await requireMysql();
    await sql(
      `CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY, pad VARCHAR(100)) ENGINE=InnoDB; INSERT INTO ${db}.t VALUES (1,'a'),(2,'b')`,
    );
  });
  afterAll(async () => {
    await sql(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  });

  it('databases.list sees test and a database this test created', async () => {
    const result = await probe('databases.list');
    expect(result.databases.map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining(['test', 'mysql', db]));
    expect(result.databases.find((d: { name: string }) => d.name === db)).toMatchObject({ tables: 1, system: false });
  });

  it('processlist shows a SELECT SLEEP this test starts', async () => {
    const marker = uniqueName('sonde_sleep');
    const sleeper = execFileAsync('mariadb', [
      '-h',
      MYSQL.host,
      '-P',
      String(MYSQL.port),
      '-u',
      MYSQL.user,
      '-e',
      `SELECT SLEEP(30) AS ${marker}`,
    ]).catch((error: unknown) => error); // KILL QUERY below ends it with error 1317
    // Long enough for a loaded machine; ended with KILL QUERY once the probe has seen it.
    const thread = await untilRunning(marker, 1);
    try {
      const result = await probe('processlist');
      const mine = result.threads.find((t: { info: string | null }) => t.info?.includes(marker));
      expect(mine).toMatchObject({ command: 'Query', user: 'root', state: 'User sleep' });
      expect(mine.timeSeconds).toBeGreaterThanOrEqual(1);
      expect(result.running).toBeGreaterThanOrEqual(1);
      expect(result.threads.some((t: { info: string | null }) => t.info?.includes('PROCESSLIST'))).toBe(false);
      expect((await probe('processlist', { minSeconds: 1000 })).threads).toEqual([]);
    } finally {
      await sql(`KILL QUERY ${thread}`);
      await sleeper;
    }
  });

  it("returns other threads' statements with every literal replaced, unless statementText is full", async () => {
    const marker = uniqueName('sonde_lit');
    const secret = `My-Literal-S3cret-${process.pid}`;
    const sleeper = execFileAsync('mariadb', [
      '-h',
      MYSQL.host,
      '-P',
      String(MYSQL.port),
      '-u',
      MYSQL.user,
      '-e',
      `SELECT SLEEP(3) AS ${marker}, '${secret}' AS password, "${secret}-dq" AS other`,
    ]);
    try {
      let mine: { info: string } | undefined;
      let result: Record<string, unknown> = {};
      for (let tries = 0; tries < 50 && !mine; tries++) {
        result = await probe('processlist');
        mine = (result.threads as Array<{ info: string | null }>).find((t) => t.info?.includes(marker)) as { info: string } | undefined;
        if (!mine) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(mine?.info).toBe(`SELECT SLEEP(?) AS ${marker}, ? AS password, ? AS other`);
      expect(JSON.stringify(result)).not.toContain(secret);
      const full = await probe('processlist', { statementText: 'full' });
      expect(full.threads.find((t: { info: string | null }) => t.info?.includes(marker)).info).toContain(secret);
    } finally {
      await sleeper;
    }
  });

  it('status and variables.important agree with the server', async () => {
    const status = await probe('status');
    expect(status.uptimeSeconds).toBeGreaterThan(0);
    expect(status.threadsConnected).toBeGreaterThanOrEqual(1);
    const variables = await probe('variables.important');
    const max = variables.variables.find((v: { name: string }) => v.name === 'max_connections');
    expect(max.value).toBe(await sql('SELECT @@max_connections'));
    expect(variables.variables.find((v: { name: string }) => v.name === 'version').value).toBe(await sql('SELECT VERSION()'));
  });

  it('host "localhost" (the client connects over the default Unix socket) works', async () => {
    const result = await probe('processlist', { host: 'localhost' });
    expect(result.total).toBeGreaterThanOrEqual(0);
    const status = await probe('status', { host: 'localhost' });
    expect(status.uptimeSeconds).toBeGreaterThan(0);
  });

  it('replication.status: not configured here, said plainly', async () => {
    expect(await probe('replication.status')).toMatchObject({
      configured: false,
      role: 'standalone',
      replica: null,
      serverId: expect.any(Number),
    });
  });

  it('innodb.status summarises the live monitor output', async () => {
    const result = await probe('innodb.status');
    expect(result.sections).toEqual(expect.arrayContaining(['TRANSACTIONS', 'BUFFER POOL AND MEMORY', 'LOG']));
    expect(result.bufferPool.sizePages).toBeGreaterThan(0);
    expect(result.log.sequenceNumber).toBeGreaterThan(0);
  });

  it('the runbook evaluates live results; a closed port and an unknown account fail clearly', async () => {
    const runbook = pack.runbooks[0];
    const results: Record<string, unknown> = {};
    for (const step of runbook.steps) results[step.probe] = await probe(step.probe, step.params ?? {});
    expect(runbook.evaluate(results).map((f) => f.probe)).toEqual(['status', 'processlist', 'replication.status']);
    await expect(probe('status', { port: 1 })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      details: { reason: 'connection-refused' },
    });
    await expect(probe('status', { user: 'sonde_no_such_user' })).rejects.toMatchObject({ details: { reason: 'auth-failed' } });
  });

  it('an account with only the README grants can run every probe', async () => {
    const user = uniqueName('sonde_m').slice(0, 32);
    await sql(`CREATE USER '${user}'@'127.0.0.1'; GRANT PROCESS, REPLICA MONITOR, BINLOG MONITOR ON *.* TO '${user}'@'127.0.0.1'`);
    try {
      for (const name of pack.probes.keys()) await probe(name, { user });
      const sleeper = execFileAsync('mariadb', [
        '-h',
        MYSQL.host,
        '-P',
        String(MYSQL.port),
        '-u',
        MYSQL.user,
        '-e',
        `SELECT SLEEP(30) AS ${user}`,
      ]).catch((error: unknown) => error); // KILL QUERY below ends it with error 1317
      const thread = await untilRunning(user, 0);
      try {
        const result = await probe('processlist', { user });
        expect(result.threads.some((t: { info: string | null; user: string }) => t.user === 'root' && t.info?.includes(user))).toBe(true);
      } finally {
        await sql(`KILL QUERY ${thread}`);
        await sleeper;
      }
    } finally {
      await sql(`DROP USER '${user}'@'127.0.0.1'`);
    }
  });

  it('an account without PROCESS gets a permission failure from innodb.status', async () => {
    const user = uniqueName('sonde_u').slice(0, 32);
    await sql(`CREATE USER '${user}'@'127.0.0.1'`);
    try {
      await expect(probe('innodb.status', { user })).rejects.toMatchObject({ details: { reason: 'permission-denied', errno: 1227 } });
    } finally {
      await sql(`DROP USER '${user}'@'127.0.0.1'`);
    }
  });
});
