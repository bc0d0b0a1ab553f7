/**
 * Records real replication outputs from a private source/replica pair of
 * MariaDB servers (the shared server on 3306 has no binary log, so it cannot
 * be a source). Both run from temporary data dirs on 127.0.0.1:23306/23307
 * and are stopped afterwards:
 *   npx tsx packs/mysql/test/recorded/capture-replication.ts
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mysqlArgs, type ConnectionParams } from '../../src/connection.js';
import type { SqlName } from '../../src/sql.js';

const dir = import.meta.dirname;
const work = mkdtempSync(path.join(tmpdir(), 'sonde-repl-'));
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SOURCE = 23306;
const REPLICA = 23307;

function start(name: string, port: number, extra: string[]) {
  const data = path.join(work, name);
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal'], { stdio: 'ignore' });
  return spawn(
    'mariadbd',
    ['--no-defaults', `--datadir=${data}`, `--socket=${data}.sock`, `--port=${port}`, '--bind-address=127.0.0.1', '--user=root', `--pid-file=${data}.pid`, '--skip-grant-tables=0', ...extra],
    { stdio: 'ignore' },
  );
}

const admin = (port: number, sql: string) => execFileSync('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-e', sql], { encoding: 'utf8' });

function record(name: string, connection: ConnectionParams, sql: SqlName): void {
  const args = mysqlArgs(connection, sql);
  const result = spawnSync('mariadb', args, { encoding: 'utf8' });
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ args, stdout: result.stdout, stderr: result.stderr, exitCode: result.status }, null, 2)}\n`);
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-e', 'SELECT 1']).status === 0) return;
    await later(100);
  }
  throw new Error(`mariadbd on ${port} did not start`);
}

const source = start('source', SOURCE, ['--server-id=1', '--log-bin=source-bin', '--binlog-format=ROW']);
const replica = start('replica', REPLICA, ['--server-id=2', '--read-only=1']);
try {
  await Promise.all([ready(SOURCE), ready(REPLICA)]);
  admin(SOURCE, "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pass'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'; CREATE DATABASE shop");
  admin(REPLICA, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${SOURCE}, MASTER_USER='repl', MASTER_PASSWORD='repl-pass', MASTER_USE_GTID=slave_pos; START SLAVE`);
  await later(1500);
  const src: ConnectionParams = { host: '127.0.0.1', port: SOURCE, user: 'root' };
  const rep: ConnectionParams = { host: '127.0.0.1', port: REPLICA, user: 'root' };
  record('source-server', src, 'server');
  record('source-replicaStatus', src, 'replicaStatus');
  record('source-masterStatus', src, 'masterStatus');
  record('replica-server', rep, 'server');
  record('replica-replicaStatus', rep, 'replicaStatus');
  record('replica-masterStatus', rep, 'masterStatus');
  // Break the replica: point it at a port where nothing listens.
  admin(REPLICA, 'STOP SLAVE; CHANGE MASTER TO MASTER_PORT=1, MASTER_CONNECT_RETRY=1; START SLAVE');
  await later(1500);
  record('replica-broken-replicaStatus', rep, 'replicaStatus');
} finally {
  for (const child of [source, replica]) child.kill('SIGTERM');
  await later(1500);
  rmSync(work, { recursive: true, force: true });
}
console.log('recorded into', dir);
