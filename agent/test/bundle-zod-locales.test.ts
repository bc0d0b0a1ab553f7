import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { packProcessBundle } from './sandbox/setup.js';

/**
 * The agent's bundle keeps only zod's English messages (agent/scripts/bundle-common.mjs, zodEnglishOnly: the other
 * languages are ~360 KB read and compiled at every `sonde start`); the pack-process bundle, whose zod packs import,
 * keeps every name, English in the modules a pack process loads and the others in one file read when a pack selects one.
 */
const REPO = path.resolve(import.meta.dirname, '../..');
const { NODE_ESM, zodEnglishOnly } = (await import(pathToFileURL(path.join(REPO, 'agent/scripts/bundle-common.mjs')).href)) as {
  NODE_ESM: BuildOptions;
  zodEnglishOnly: Plugin;
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

  it("the pack-process bundle keeps every language's name, English in its modules and the others in a file read on first use", async () => {
    const bundle = packProcessBundle();
    const modules = readdirSync(bundle.dir).filter((file) => file.endsWith('.js'));
    for (const file of modules) expect(readFileSync(path.join(bundle.dir, file), 'utf8')).not.toContain('erwartet');
    expect(readFileSync(path.join(bundle.dir, 'zod-locales.cjs'), 'utf8')).toContain('erwartet');
    const zod = (await import(pathToFileURL(path.join(bundle.dir, 'zod.js')).href)) as { z: { locales: Record<string, unknown> } };
    const real = await import('zod');
    expect(Object.keys(zod.z.locales)).toEqual(Object.keys(real.z.locales));
  });
});
