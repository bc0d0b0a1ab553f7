import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHostContext, runProbe } from '@sonde/pack-sdk';
import pack from '../src/index.js';

const execFileAsync = promisify(execFile);

export const REDIS = { host: '127.0.0.1', port: 6379 } as const;

/** The test's own client, outside the pack. */
export async function cli(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', REDIS.host, '-p', String(REDIS.port), ...args]);
  return stdout.trim();
}

/** CI starts the servers; an unreachable server is a failure with a next step, never a skip. */
export async function requireRedis(): Promise<void> {
  let answer = '';
  try {
    answer = await cli('PING');
  } catch (error) {
    answer = String((error as Error).message);
  }
  if (answer !== 'PONG') {
    throw new Error(
      `Redis is not reachable at ${REDIS.host}:${REDIS.port} (PING answered: ${answer.trim()}). Start it with .ci/services.sh.`,
    );
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

/** Runs a probe as a host would: real execFile, declared permissions enforced. `env` is the agent-set command environment. */
export async function probe<T = Loose>(name: string, params: Record<string, unknown> = {}, env?: Record<string, string>): Promise<T> {
  const outcome = await runProbe(pack, name, { ...REDIS, ...params }, (signal) =>
    createHostContext({ permissions: pack.manifest.permissions, signal, env }),
  );
  return outcome.result as T;
}

export function uniqueName(prefix: string): string {
  return `${prefix}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
}
