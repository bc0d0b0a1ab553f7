import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signPackDir } from '../src/pack/signature.js';
import { verifyPackDir } from '../src/pack/verify.js';
import { loadTrust } from '../src/trust/trust.js';
import { copyFixture, publisher, storeFor } from './helpers.js';

// The cost of signing and verifying is measured by the bench (bench/), not asserted here: a time bound
// in the unit suite only flakes on a shared machine. This keeps what the size must not change.
describe('a pack of about 50 files', () => {
  it('signs, verifies after a re-sign, and refuses a change to any one of its files', async () => {
    const dir = await copyFixture();
    // 46 extra files, 4-40 KiB each, in nested folders: about what a built pack with parsers and recorded outputs ships.
    const extra: string[] = [];
    for (let i = 0; i < 46; i += 1) {
      const sub = join(dir, 'dist', `part${i % 5}`);
      await mkdir(sub, { recursive: true });
      const file = join(sub, `module${i}.js`);
      await writeFile(file, `export const x${i} = ${JSON.stringify('x'.repeat(4096 * (1 + (i % 10))))};\n`);
      extra.push(file);
    }
    const key = publisher();
    const trust = loadTrust(storeFor(key));
    await signPackDir(dir, key);
    expect((await verifyPackDir(dir, trust)).ok).toBe(true);
    await signPackDir(dir, key);
    expect((await verifyPackDir(dir, trust)).ok).toBe(true);

    // The last file of the deepest walk is covered like the first.
    await writeFile(extra[extra.length - 1], 'export const x45 = "changed";\n');
    expect((await verifyPackDir(dir, trust)).ok).toBe(false);
  });
});
