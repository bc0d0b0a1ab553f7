import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureSandboxOverhead } from '@sonde/pack-sdk/sandbox';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pack } from '@sonde/pack-sdk';
import { FIXTURE, childNodes, makePackTree, type PackTree } from './setup.js';

/**
 * measureSandboxOverhead (pack-sdk/src/sandbox/measure.ts) runs a probe through a pack process and in
 * process, and reports both. The figures are judged by the bench (bench/README.md), not here: a time
 * bound in the unit suite only flakes on a shared machine. This checks that the measurement measures.
 */
describe('sandbox overhead measurement', () => {
  let tree: PackTree;
  beforeAll(async () => {
    tree = await makePackTree();
  });
  afterAll(() => tree?.cleanup());

  it.each(childNodes())('runs a no-op probe through a pack process and in process under %s', async (nodePath) => {
    const figures = await measureSandboxOverhead({
      packDir: tree.packDir,
      permissions: tree.permissions,
      nodePath,
      probe: 'noop',
      calls: 20,
      starts: 2,
      // Imported from the repository so it resolves our sources under vitest.
      inProcessPack: ((await import(pathToFileURL(path.join(FIXTURE, 'index.js')).href)) as { default: Pack }).default,
    });
    expect(figures.calls).toBe(20);
    expect(figures.startupMs).toHaveLength(2);
    expect(figures.isolation).toMatch(/^permission-model/);
    expect(figures.node).toBe(nodePath);
    for (const ms of [...figures.startupMs, ...Object.values(figures.sandboxCallMs), ...Object.values(figures.inProcessCallMs)]) {
      expect(Number.isFinite(ms) && ms >= 0, JSON.stringify(figures)).toBe(true);
    }
    // A call through a pack process crosses a pipe twice: it takes some time, however fast the machine.
    expect(figures.sandboxCallMs.p50, JSON.stringify(figures)).toBeGreaterThan(0);
  });
});
