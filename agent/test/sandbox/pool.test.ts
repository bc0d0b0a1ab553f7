import { lstatSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pack } from '@sonde/pack-sdk';
import { permissionsDigest } from '@sonde/pack-sdk';
import { PackRunnerPool, type ApprovedPack, type SandboxSecurityEvent } from '@sonde/pack-sdk/sandbox';
import { FIXTURE, makePackTree, type PackTree } from './setup.js';

describe('pack runner pool', () => {
  let tree: PackTree;
  let approved: ApprovedPack;
  const events: SandboxSecurityEvent[] = [];
  let pool: PackRunnerPool;

  beforeAll(async () => {
    tree = await makePackTree();
    const pack = ((await import(pathToFileURL(path.join(FIXTURE, 'index.js')).href)) as { default: Pack }).default;
    approved = {
      name: 'hostile',
      version: '1.0.0',
      dir: tree.packDir,
      entry: path.join(tree.packDir, 'index.js'),
      manifest: pack.manifest,
      permissionsSha256: permissionsDigest(pack.manifest.permissions),
    };
    pool = new PackRunnerPool({
      packsDir: path.dirname(path.dirname(tree.packDir)),
      deniedPaths: [tree.keyFile],
      onSecurityEvent: (e) => events.push(e),
    });
    pool.prepare();
  });
  afterAll(async () => {
    await pool?.closeAll();
    tree?.cleanup();
  });

  it('keeps one process per pack across reloads and replaces it when the pack changes', async () => {
    const first = await pool.activate(approved);
    expect((await first.run('noop', {})).result).toEqual({ outcome: 'ok' });
    expect(await pool.activate(approved)).toBe(first);
    // A new approval is the operator action that replaces the process (and lifts a quarantine).
    const reapproved = await pool.activate(approved, { approvedAt: new Date().toISOString() });
    expect(reapproved).not.toBe(first);
    expect(first.state.status).toBe('closed');
    const second = await pool.activate({ ...approved, version: '1.0.1' });
    expect(second).not.toBe(reapproved);
    expect(reapproved.state.status).toBe('closed');
    expect(pool.states().hostile?.status).toBe('ready');
    await pool.retain(new Set());
    expect(second.state.status).toBe('closed');
    expect(pool.get('hostile')).toBeUndefined();
  });

  it('copies the host packages only when the first pack process starts, not when the agent starts', async () => {
    // As preparePacksDir leaves it: pack-sdk and zod linked from the agent's own installation, no picomatch.
    const nodeModules = path.dirname(tree.packDir);
    const sdk = path.join(nodeModules, '@sonde/pack-sdk');
    for (const name of ['@sonde/pack-sdk', 'zod', 'picomatch']) rmSync(path.join(nodeModules, name), { recursive: true, force: true });
    symlinkSync(path.resolve(import.meta.dirname, '../../../pack-sdk'), sdk, 'dir');
    symlinkSync(path.dirname(createRequire(import.meta.url).resolve('zod/package.json')), path.join(nodeModules, 'zod'), 'dir');
    const lazy = new PackRunnerPool({ packsDir: path.dirname(path.dirname(tree.packDir)), deniedPaths: [], onSecurityEvent: () => {} });
    try {
      const runner = await lazy.activate(approved, { deferStart: true });
      expect(lstatSync(sdk).isSymbolicLink()).toBe(true);
      await runner.start();
      expect(lstatSync(sdk).isSymbolicLink()).toBe(false);
      expect((await runner.run('noop', {})).result).toEqual({ outcome: 'ok' });
    } finally {
      await lazy.closeAll();
    }
  });

  it('refuses a probe the approved manifest does not list, or that is not observe', async () => {
    const runner = await pool.activate({
      ...approved,
      manifest: {
        ...approved.manifest,
        probes: approved.manifest.probes
          .map((p) => (p.name === 'spin' ? { ...p, capability: 'mutate' as const } : p))
          .filter((p) => p.name !== 'env'),
      },
    });
    await expect(runner.run('env', {})).rejects.toMatchObject({ code: 'SONDE_ERR_UNKNOWN_PROBE' });
    await expect(runner.run('spin', {})).rejects.toMatchObject({ code: 'SONDE_ERR_CAPABILITY_REFUSED' });
  });
});
