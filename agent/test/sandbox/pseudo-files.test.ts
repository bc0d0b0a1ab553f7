import { cpSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pack } from '@sonde/pack-sdk';
import { permissionsDigest } from '@sonde/pack-sdk';
import { PackRunnerPool } from '@sonde/pack-sdk/sandbox';
import { makePackTree, type PackTree } from './setup.js';

/**
 * A pack in its own process asks the agent's broker to read procfs files.
 * procfs reports a size of 0 for them, so a broker that reads `stat.size`
 * bytes answers '' and the probe fails only on a real agent.
 */

const FIXTURE = path.join(import.meta.dirname, 'fixtures/pseudo-pack');

describe('sandbox broker readFile on procfs', () => {
  let tree: PackTree;
  let pool: PackRunnerPool;
  let packDir: string;
  let pack: Pack;

  beforeAll(async () => {
    tree = await makePackTree();
    packDir = path.join(path.dirname(tree.packDir), 'pseudo-pack');
    cpSync(FIXTURE, packDir, { recursive: true });
    pack = ((await import(pathToFileURL(path.join(FIXTURE, 'index.js')).href)) as { default: Pack }).default;
    pool = new PackRunnerPool({
      packsDir: path.dirname(path.dirname(packDir)),
      deniedPaths: [tree.keyFile],
      onSecurityEvent: () => undefined,
    });
    pool.prepare();
  });
  afterAll(async () => {
    await pool?.closeAll();
    tree?.cleanup();
  });

  it('returns the content of a file whose stat size is 0, and honours the cap', async () => {
    const runner = await pool.activate({
      name: 'pseudo',
      version: '1.0.0',
      dir: packDir,
      entry: path.join(packDir, 'index.js'),
      manifest: pack.manifest,
      permissionsSha256: permissionsDigest(pack.manifest.permissions),
    });
    const load = (await runner.run('read', { path: '/proc/loadavg' })).result as { content: string; truncated: boolean };
    expect(load.content).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\/\d+ \d+\n$/);
    expect(load.truncated).toBe(false);
    const capped = (await runner.run('read', { path: '/proc/meminfo', maxBytes: 9 })).result as { content: string; truncated: boolean };
    expect(capped).toEqual({ content: 'MemTotal:', truncated: true });
  });
});
