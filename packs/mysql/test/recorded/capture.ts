/**
 * Re-records the MariaDB client outputs in this folder from a real server:
 *   npx tsx packs/mysql/test/recorded/capture.ts [host] [port]
 * In database `test` it creates a table, provokes one deadlock and holds a lock
 * wait open plus a SELECT SLEEP while recording, then drops the table. It also
 * creates a throwaway account without privileges for the permission error.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { mysqlArgs, type ConnectionParams } from '../../src/connection.js';
import { SQL, type SqlName } from '../../src/sql.js';

const run = promisify(execFile);
const dir = import.meta.dirname;
const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 3306);
const base: ConnectionParams = { host, port, user: 'root' };
const admin = (sql: string) => run('mariadb', ['-h', host, '-P', String(port), '-u', 'root', 'test', '-e', sql]);
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function record(name: string, connection: ConnectionParams, sql: SqlName): void {
  const args = mysqlArgs(connection, sql);
  const result = spawnSync('mariadb', args, { encoding: 'utf8' });
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ args, stdout: result.stdout, stderr: result.stderr, exitCode: result.status }, null, 2)}\n`);
}

await admin('DROP TABLE IF EXISTS sonde_capture; CREATE TABLE sonde_capture (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; INSERT INTO sonde_capture VALUES (1,0),(2,0)');
// Two sessions updating the same two rows in opposite order: InnoDB picks a deadlock victim.
await Promise.allSettled([
  admin('BEGIN; UPDATE sonde_capture SET v=1 WHERE id=1; SELECT SLEEP(0.5); UPDATE sonde_capture SET v=1 WHERE id=2; COMMIT'),
  admin('BEGIN; UPDATE sonde_capture SET v=2 WHERE id=2; SELECT SLEEP(0.5); UPDATE sonde_capture SET v=2 WHERE id=1; COMMIT'),
]);
// A lock holder, a waiter and a plain sleeper, live while recording.
const holder = admin('BEGIN; UPDATE sonde_capture SET v=3 WHERE id=1; SELECT SLEEP(3); COMMIT');
await later(300);
const waiter = admin('UPDATE sonde_capture SET v=4 WHERE id=1').catch((error: unknown) => error);
const sleeper = admin('SELECT SLEEP(3)');
await later(1200);
for (const name of Object.keys(SQL) as SqlName[]) record(name, base, name);
await Promise.allSettled([holder, waiter, sleeper]);
await admin('DROP TABLE sonde_capture');

record('error-connection-refused', { ...base, port: 1 }, 'status');
record('error-auth-failed', { ...base, user: 'sonde_no_such_user' }, 'status');
await admin("CREATE USER IF NOT EXISTS 'sonde_rec'@'127.0.0.1'");
try {
  record('error-permission-denied', { ...base, user: 'sonde_rec' }, 'innodb');
} finally {
  await admin("DROP USER 'sonde_rec'@'127.0.0.1'");
}
console.log('recorded into', dir);
