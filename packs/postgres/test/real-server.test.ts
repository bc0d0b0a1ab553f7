import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pack from '../src/index.js';
import { background, probe, psql, requirePostgres, uniqueName, untilTrue, type Loose } from './server.js';

describe('postgres probes against the real server on 127.0.0.1:5432', () => {
  const table = uniqueName('sonde_lock');
  const db = uniqueName('sonde_db');

  beforeAll(async () => {
    await requirePostgres();
    await psql(`create table ${table}(id int)`);
    await psql(`create database ${db}`);
  });
  afterAll(async () => {
    await psql(`drop table if exists ${table}`).catch(() => undefined);
    await psql(`drop database if exists ${db}`).catch(() => undefined);
  });

  it('databases.list sees test and a database this test created, with sizes', async () => {
    const result = await probe('databases.list');
    const names = result.databases.map((d: { name: string }) => d.name);
    expect(names).toEqual(expect.arrayContaining(['test', 'postgres', db]));
    expect(result.databases.find((d: { name: string }) => d.name === db).sizeBytes).toBeGreaterThan(1_000_000);
  });

  it('connections.active, queries.slow and locks.blocking see sessions this test opens', async () => {
    const app = uniqueName('sonde_app');
    // A lock holder that sleeps, and a second session waiting on its lock.
    const holder = background(['begin', `lock table ${table} in access exclusive mode`, 'select pg_sleep(4)', 'commit'], {
      PGAPPNAME: `${app}_holder`,
    });
    await untilTrue(
      `select exists (select from pg_stat_activity where application_name = '${app}_holder' and query like 'select pg_sleep%')`,
      'the lock holder sleeping',
    );
    const waiter = background([`select count(*) from ${table}`], { PGAPPNAME: `${app}_waiter` });
    // The waiter blocked on the lock, and the holder's query running for a second (connections.longestRunning below).
    await untilTrue(
      `select exists (select from pg_stat_activity where application_name = '${app}_waiter' and wait_event_type = 'Lock')
         and exists (select from pg_stat_activity where application_name = '${app}_holder' and now() - query_start >= interval '1 second')`,
      'the waiter blocked and the holder running for a second',
    );
    try {
      const connections = await probe('connections.active');
      const mine = connections.sessions.filter((s: { application: string }) => s.application?.startsWith(app));
      expect(mine.map((s: { application: string }) => s.application).sort()).toEqual([`${app}_holder`, `${app}_waiter`]);
      expect(connections.byState.active).toBeGreaterThanOrEqual(2);
      expect(connections.longestRunning.querySeconds).toBeGreaterThanOrEqual(1);

      const slow = await probe('queries.slow', { minSeconds: 1 });
      expect(slow.running.some((s: { application: string }) => s.application === `${app}_holder`)).toBe(true);
      expect(slow.statements.available).toBe(false);

      const locks = await probe('locks.blocking');
      const holderPid = mine.find((s: { application: string }) => s.application === `${app}_holder`).pid;
      const waiterPid = mine.find((s: { application: string }) => s.application === `${app}_waiter`).pid;
      expect(locks.blocked).toContainEqual(expect.objectContaining({ pid: waiterPid, blockedBy: [holderPid] }));
      expect(locks.rootBlockers).toContain(holderPid);

      const findings = pack.runbooks[0].evaluate({
        'connections.active': connections,
        'locks.blocking': locks,
        'replication.status': await probe('replication.status'),
      });
      expect(findings.find((f) => f.probe === 'locks.blocking')!.severity).toBe('warning');
    } finally {
      await Promise.all([holder, waiter]);
    }
  });

  it("returns other sessions' statements with every literal replaced, unless statementText is full", async () => {
    const app = uniqueName('sonde_lit');
    const secret = `Pg-Literal-S3cret-${process.pid}`;
    const session = background([`select pg_sleep(3), '${secret}' as password`], { PGAPPNAME: app });
    try {
      await untilTrue(`select exists (select from pg_stat_activity where application_name = '${app}' and state = 'active')`, 'the session');
      const connections: Loose = await probe('connections.active');
      const mine = connections.sessions.find((s: { application: string }) => s.application === app);
      expect(mine.query).toBe('select pg_sleep(?), ? as password');
      expect(JSON.stringify(connections)).not.toContain(secret);
      expect(JSON.stringify(await probe('queries.slow', { minSeconds: 0 }))).not.toContain(secret);
      const full = await probe('connections.active', { statementText: 'full' });
      expect(full.sessions.find((s: { application: string }) => s.application === app).query).toContain(secret);
    } finally {
      await session;
    }
  });

  it('replication.status: this server is a primary without replicas', async () => {
    expect(await probe('replication.status')).toMatchObject({ role: 'primary', configured: false, replicas: [] });
  });

  it('settings.important and version agree with the server', async () => {
    const settings = await probe('settings.important');
    const max = settings.settings.find((s: { name: string }) => s.name === 'max_connections');
    expect(max.value).toBe(await psql('show max_connections'));
    const version = await probe('version');
    expect(String(version.versionNum)).toBe(await psql('show server_version_num'));
    expect(version.uptimeSeconds).toBeGreaterThan(0);
  });

  it('a role with only pg_monitor (the README grant) can run every probe and sees other sessions', async () => {
    const role = uniqueName('sonde_mon');
    await psql(`create role ${role} login; grant pg_monitor to ${role}`);
    try {
      for (const name of pack.probes.keys()) await probe(name, { user: role });
      const holder = background(['select pg_sleep(1.5)'], { PGAPPNAME: role });
      await untilTrue(
        `select exists (select from pg_stat_activity where application_name = '${role}' and state = 'active')`,
        'the session',
      );
      const connections = await probe('connections.active', { user: role });
      expect(connections.sessions.find((s: { application: string }) => s.application === role)?.query).toBe('select pg_sleep(?)');
      await holder;
    } finally {
      await psql(`drop role if exists ${role}`);
    }
  });

  it('socket: true connects over the default Unix socket (peer or trust auth, no -h)', async () => {
    const result = await probe('version', { socket: true, host: undefined });
    expect(String(result.versionNum)).toBe(await psql('show server_version_num'));
    await expect(probe('version', { socket: true, port: 1 })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/^postgres at the local socket \(port 1\): no server socket/),
      details: { reason: 'connection-refused' },
    });
  });

  it('an explicit role works and a closed port fails with a clear message', async () => {
    await expect(probe('version', { user: 'postgres' })).resolves.toMatchObject({ major: expect.any(Number) });
    await expect(probe('version', { port: 1 })).rejects.toMatchObject({
      code: 'SONDE_ERR_COMMAND_FAILED',
      message: expect.stringMatching(/postgres at 127\.0\.0\.1:1: connection refused/),
    });
  });
});
