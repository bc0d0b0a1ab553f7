import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enablePrivateCompileCache } from './compile-cache.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-compile-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function home(name: string, mode: number): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

describe('the agent compile cache', () => {
  it('lives in <SONDE_HOME>/cache, made 0700, when the home is private', () => {
    const enabled: string[] = [];
    const dir = enablePrivateCompileCache((where) => enabled.push(where), home('private', 0o700));
    expect(dir).toBe(path.join(root, 'private', 'cache'));
    expect(enabled).toEqual([dir]);
    expect(statSync(dir!).mode & 0o077).toBe(0);
  });

  it('is not turned on in a home others can write (V8 would run what they put there)', () => {
    const enabled: string[] = [];
    expect(enablePrivateCompileCache((where) => enabled.push(where), home('open', 0o777))).toBeUndefined();
    expect(enabled).toEqual([]);
    expect(existsSync(path.join(root, 'open', 'cache'))).toBe(false);
  });

  it('is not turned on in a cache folder others can write, nor where the home does not exist', () => {
    const shared = home('shared', 0o700);
    mkdirSync(path.join(shared, 'cache'));
    chmodSync(path.join(shared, 'cache'), 0o777);
    const enabled: string[] = [];
    expect(enablePrivateCompileCache((where) => enabled.push(where), shared)).toBeUndefined();
    expect(enablePrivateCompileCache((where) => enabled.push(where), path.join(root, 'missing'))).toBeUndefined();
    expect(enabled).toEqual([]);
  });

  it('does nothing on Node 20, which has no compile cache', () => {
    expect(enablePrivateCompileCache(undefined, home('node20', 0o700))).toBeUndefined();
    expect(existsSync(path.join(root, 'node20', 'cache'))).toBe(false);
  });
});
