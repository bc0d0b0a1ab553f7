import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandFixture } from '@sonde/pack-sdk/testing';

export interface Recorded {
  args: string[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function recorded(name: string): Recorded {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, 'recorded', `${name}.json`), 'utf8')) as Recorded;
}

/** A recorded client run as a harness fixture: the probe must produce exactly the recorded argv. */
export function fixture(name: string): CommandFixture {
  const run = recorded(name);
  return { binary: 'mariadb', args: run.args, stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode };
}

export const RECORDED_CONNECTION = { host: '127.0.0.1', port: 3306, user: 'root' };
