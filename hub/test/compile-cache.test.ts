import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { CLI_PATH } from './start-command.js';

// Node 20 (the test runner) has no compile cache; SONDE_NODE24_BIN points at a newer Node when installed.
const node = [process.env.SONDE_NODE24_BIN, process.execPath].find(
  (bin) => bin && existsSync(bin) && Number(execFileSync(bin, ['-p', 'process.versions.node']).toString().split('.')[0]) >= 22,
);

/** Runs `sonde-hub --version` with this HOME and TMPDIR; NODE_COMPILE_CACHE unset, so only cli.ts can turn the cache on. */
function runVersion(home: string, tmp: string): void {
  execFileSync(node!, [CLI_PATH, '--version'], { env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmp } });
}

describe('sonde-hub on Node 22+', () => {
  it.skipIf(!node)('caches compiled code for the whole module graph in a private folder of its home, never under /tmp', () => {
    const { dir, cleanup } = tempDir();
    try {
      const home = path.join(dir, 'home');
      const tmp = path.join(dir, 'tmp');
      mkdirSync(home, { mode: 0o700 });
      mkdirSync(tmp, { mode: 0o1777 });
      runVersion(home, tmp);
      const cache = path.join(home, '.cache', 'sonde-hub');
      expect(readdirSync(cache, { recursive: true }).length).toBeGreaterThan(10);
      // V8 runs what it finds there: only this user may write it.
      expect(statSync(cache).mode & 0o077).toBe(0);
      // Node's default, a shared folder under TMPDIR another local user could have created first, is not used.
      expect(existsSync(path.join(tmp, 'node-compile-cache'))).toBe(false);
    } finally {
      cleanup();
    }
  });

  it.skipIf(!node)('runs without a cache when its home is writable by others', () => {
    const { dir, cleanup } = tempDir();
    try {
      const home = path.join(dir, 'home');
      mkdirSync(home);
      chmodSync(home, 0o777);
      runVersion(home, dir);
      expect(existsSync(path.join(home, '.cache'))).toBe(false);
      expect(existsSync(path.join(dir, 'node-compile-cache'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
