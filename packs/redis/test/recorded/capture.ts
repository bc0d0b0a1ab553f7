/**
 * Re-records the redis-cli outputs in this folder from a real server:
 *   npx tsx packs/redis/test/recorded/capture.ts [host] [port]
 * It briefly sets slowlog-log-slower-than 0 (restored afterwards), writes a
 * few keys (deleted afterwards), holds a blocking client open while CLIENT
 * LIST is recorded, and creates two throwaway ACL users for the error cases.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { redisArgs, type ConnectionParams } from '../../src/connection.js';

const dir = import.meta.dirname;
const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 6379);
const base: ConnectionParams = { host, port };
const cli = (...args: string[]): string => execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], { encoding: 'utf8' }).trim();

function record(name: string, connection: ConnectionParams, command: string[], env: Record<string, string> = {}): void {
  const args = redisArgs(connection, command);
  // spawnSync keeps stderr of a successful run too (redis-cli reports a failed AUTH there and still exits 0).
  const run = spawnSync('redis-cli', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH!, ...env } });
  const { stdout, stderr } = run;
  const exitCode = run.status ?? -1;
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ args, env: Object.keys(env), stdout, stderr, exitCode }, null, 2)}\n`);
}

const previous = cli('CONFIG', 'GET', 'slowlog-log-slower-than').split('\n')[1];
cli('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
try {
  cli('SET', 'sonde:rec:a', '1');
  cli('SET', 'sonde:rec:b', '2', 'EX', '600');
  cli('-n', '3', 'SET', 'sonde:rec:c', '3');
  const blocker = execFile('redis-cli', ['-h', host, '-p', String(port), 'BLPOP', 'sonde:rec:list', '2']);
  await new Promise((resolve) => setTimeout(resolve, 300));
  record('info-default', base, ['INFO', 'default']);
  record('info-keyspace', base, ['INFO', 'keyspace']);
  record('info-stats', base, ['INFO', 'stats']);
  record('info-memory', base, ['INFO', 'memory']);
  record('memory-stats', base, ['MEMORY', 'STATS']);
  record('client-list', base, ['CLIENT', 'LIST']);
  record('slowlog-get', base, ['SLOWLOG', 'GET', '5']);
  record('slowlog-len', base, ['SLOWLOG', 'LEN']);
  record('latency-latest', base, ['LATENCY', 'LATEST']);
  await new Promise((resolve) => blocker.on('exit', resolve));
} finally {
  cli('CONFIG', 'SET', 'slowlog-log-slower-than', previous);
  cli('DEL', 'sonde:rec:a', 'sonde:rec:b');
  cli('-n', '3', 'DEL', 'sonde:rec:c');
}

record('error-connection-refused', { ...base, port: 1 }, ['INFO', 'default']);
cli('ACL', 'SETUSER', 'sonde_rec_noperm', 'on', 'nopass', '-@all', '+ping');
cli('ACL', 'SETUSER', 'sonde_rec_pw', 'on', '>correct-horse', '+@all');
try {
  record('error-noperm', { ...base, user: 'sonde_rec_noperm' }, ['INFO', 'default'], { REDISCLI_AUTH: 'any' });
  record('error-auth-failed', { ...base, user: 'sonde_rec_pw' }, ['INFO', 'default'], { REDISCLI_AUTH: 'wrong' });
} finally {
  cli('ACL', 'DELUSER', 'sonde_rec_noperm', 'sonde_rec_pw');
}
console.log('recorded into', dir);
