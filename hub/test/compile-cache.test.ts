import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { CLI_PATH } from './start-command.js';

// Node 20 (the test runner) has no compile cache; SONDE_NODE24_BIN points at a newer Node when installed.
const node = [process.env.SONDE_NODE24_BIN, process.execPath].find(
  (bin) => bin && existsSync(bin) && Number(execFileSync(bin, ['-p', 'process.versions.node']).toString().split('.')[0]) >= 22,
);

describe('sonde-hub on Node 22+', () => {
  it.skipIf(!node)('caches compiled code for the whole module graph, Commander and the hub alike', () => {
    const { dir, cleanup } = tempDir();
    try {
      // The default cache directory is under os.tmpdir(); NODE_COMPILE_CACHE unset, so only cli.ts can turn it on.
      execFileSync(node!, [CLI_PATH, '--version'], { env: { PATH: process.env.PATH ?? '', TMPDIR: dir } });
      const cache = path.join(dir, 'node-compile-cache');
      const entries = readdirSync(cache, { recursive: true }).map(String);
      expect(entries.length).toBeGreaterThan(10);
    } finally {
      cleanup();
    }
  });
});
