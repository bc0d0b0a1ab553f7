import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureSandboxOverhead } from '@sonde/pack-sdk/sandbox';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pack } from '@sonde/pack-sdk';
import { FIXTURE, childNodes, makePackTree, type PackTree } from './setup.js';

/** Prints start-up and per-call cost of the sandbox against in-process runs (bench/ calls the same function with more calls). */
describe('sandbox overhead', () => {
  let tree: PackTree;
  beforeAll(async () => {
    tree = await makePackTree();
  });
  afterAll(() => tree?.cleanup());

  it.each(childNodes())('a no-op probe through a pack process under %s', async (nodePath) => {
    const figures = await measureSandboxOverhead({
      packDir: tree.packDir,
      permissions: tree.permissions,
      nodePath,
      probe: 'noop',
      calls: 200,
      starts: 2,
      // Imported from the repository so it resolves our sources under vitest.
      inProcessPack: ((await import(pathToFileURL(path.join(FIXTURE, 'index.js')).href)) as { default: Pack }).default,
    });
    process.stdout.write(`sandbox overhead ${JSON.stringify(figures)}\n`);
    expect(figures.startupMs.every((ms) => ms > 0 && ms < 5_000)).toBe(true);
    // A brokered call is two frames over a local socket: well under a few milliseconds here.
    expect(figures.sandboxCallMs.p50).toBeLessThan(10);
  });
});
