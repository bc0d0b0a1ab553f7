/**
 * Re-records the psql outputs in this folder from a real server:
 *   npx tsx packs/postgres/test/recorded/capture.ts [host] [port]
 * It opens a lock wait in database `test` while capturing so the blocking and
 * session outputs have content, and records the client's error outputs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { psqlArgs } from '../../src/connection.js';
import { QUERY_SETS, type QuerySet } from '../../src/sql.js';

const dir = import.meta.dirname;
const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 5432);
const base = { host, port, database: 'test' };

function record(name: string, args: string[]): void {
  let stdout = '';
  let stderr = '';
  let exitCode = 0;
  try {
    stdout = execFileSync('psql', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { stdout: string; stderr: string; status: number };
    ({ stdout, stderr } = failure);
    exitCode = failure.status;
  }
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ args, stdout, stderr, exitCode }, null, 2)}\n`);
}

const admin = ['-X', '-q', '-h', host, '-p', String(port), '-d', 'test'];
execFileSync('psql', [...admin, '-c', 'create table if not exists sonde_capture_lock(id int)']);
const holder = execFile('psql', [...admin, '-c', 'begin', '-c', 'lock table sonde_capture_lock in access exclusive mode', '-c', 'select pg_sleep(4)', '-c', 'commit']);
await new Promise((resolve) => setTimeout(resolve, 500));
const waiter = execFile('psql', [...admin, '-c', 'select count(*) from sonde_capture_lock']);
await new Promise((resolve) => setTimeout(resolve, 1500));
for (const set of Object.keys(QUERY_SETS) as QuerySet[]) record(set, psqlArgs(base, set));
await Promise.all([holder, waiter].map((child) => new Promise((resolve) => child.on('exit', resolve))));
execFileSync('psql', [...admin, '-c', 'drop table sonde_capture_lock']);

record('error-connection-refused', psqlArgs({ ...base, port: 1 }, 'version'));
record('error-auth-failed', psqlArgs({ ...base, user: 'sonde_no_such_role' }, 'version'));
record('error-unknown-database', psqlArgs({ ...base, database: 'sonde_no_such_db' }, 'version'));
console.log('recorded into', dir);
