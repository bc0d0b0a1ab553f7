import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { packProcessBundle } from './sandbox/setup.js';

/**
 * The agent's bundle keeps only zod's English messages (agent/scripts/bundle-common.mjs, zodEnglishOnly: the other
 * languages are ~360 KB read and compiled at every `sonde start`); the pack-process bundle, whose zod packs import,
 * keeps them all.
 */
const REPO = path.resolve(import.meta.dirname, '../..');
const { NODE_ESM, zodEnglishOnly } = (await import(pathToFileURL(path.join(REPO, 'agent/scripts/bundle-common.mjs')).href)) as {
  NODE_ESM: Record<string, unknown>;
  zodEnglishOnly: unknown;
};
const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-zod-locales-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const probe = [
  "import { z } from 'zod';",
  'const failed = z.object({ n: z.number() }).safeParse({ n: "x" });',
  'console.log(JSON.stringify({ locales: Object.keys(z.locales), message: failed.error.issues[0].message }));',
].join('\n');

describe("zod's locales in the agent's bundles", () => {
  it('the agent bundle has English only, and zod still speaks it', async () => {
    await build({
      ...NODE_ESM,
      splitting: false,
      stdin: { contents: probe, resolveDir: path.join(REPO, 'agent'), sourcefile: 'probe.mjs', loader: 'js' },
      outfile: path.join(root, 'probe.js'),
      write: true,
      plugins: [zodEnglishOnly],
    });
    const out = JSON.parse(execFileSync(process.execPath, [path.join(root, 'probe.js')], { encoding: 'utf8' })) as {
      locales: string[];
      message: string;
    };
    expect(out.locales).toEqual(['en']);
    expect(out.message).toBe('Invalid input: expected number, received string');
  });

  it("the pack-process bundle keeps every language: packs may select one with zod's own API", async () => {
    const bundle = packProcessBundle();
    const zod = (await import(pathToFileURL(path.join(bundle.dir, 'zod.js')).href)) as { z: { locales: Record<string, unknown> } };
    expect(Object.keys(zod.z.locales)).toEqual(expect.arrayContaining(['en', 'de', 'fr', 'ja']));
  });
});
