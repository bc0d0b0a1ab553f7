/**
 * Records real replication outputs from a private PostgreSQL primary and
 * streaming standby (the shared server on 5432 has no replicas). Both run as
 * the `postgres` OS user from temporary data dirs on 127.0.0.1:25432/25433 and
 * are stopped afterwards:
 *   npx tsx packs/postgres/test/recorded/capture-replication.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { psqlArgs, type ConnectionTarget } from '../../src/connection.js';
import type { QuerySet } from '../../src/sql.js';

const dir = import.meta.dirname;
const bin = '/usr/lib/postgresql/15/bin';
const work = mkdtempSync(path.join(tmpdir(), 'sonde-pgrepl-'));
chmodSync(work, 0o777);
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const asPostgres = (tool: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { stdio: 'ignore' });
const primaryDir = path.join(work, 'primary');
const standbyDir = path.join(work, 'standby');

function record(name: string, connection: ConnectionTarget, set: QuerySet): void {
  const args = psqlArgs(connection, set);
  const result = spawnSync('psql', args, { encoding: 'utf8' });
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ args, stdout: result.stdout, stderr: result.stderr, exitCode: result.status }, null, 2)}\n`);
}

const options = (port: number) => `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${work}`;
asPostgres('initdb', ['-A', 'trust', '-U', 'postgres', '-D', primaryDir]);
asPostgres('pg_ctl', ['-D', primaryDir, '-o', options(25432), '-l', path.join(work, 'primary.log'), '-w', 'start']);
try {
  asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', '25432', '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream']);
  asPostgres('pg_ctl', ['-D', standbyDir, '-o', options(25433), '-l', path.join(work, 'standby.log'), '-w', 'start']);
  try {
    execFileSync('psql', ['-X', '-h', '127.0.0.1', '-p', '25432', '-U', 'postgres', '-d', 'postgres', '-c', 'create table t as select generate_series(1,1000) x']);
    await later(1000);
    record('primary-replication', { host: '127.0.0.1', port: 25432, user: 'postgres', database: 'postgres' }, 'replication');
    record('standby-replication', { host: '127.0.0.1', port: 25433, user: 'postgres', database: 'postgres' }, 'replication');
    asPostgres('pg_ctl', ['-D', primaryDir, '-m', 'fast', '-w', 'stop']);
    await later(500);
    record('standby-disconnected-replication', { host: '127.0.0.1', port: 25433, user: 'postgres', database: 'postgres' }, 'replication');
  } finally {
    asPostgres('pg_ctl', ['-D', standbyDir, '-m', 'fast', '-w', 'stop']);
  }
} finally {
  spawnSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), '-D', primaryDir, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
console.log('recorded into', dir);
