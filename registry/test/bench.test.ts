import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { signPackDir } from '../src/pack/signature.js';
import { verifyPackDir } from '../src/pack/verify.js';
import { loadTrust } from '../src/trust/trust.js';
import { copyFixture, publisher, storeFor } from './helpers.js';

describe('cost of signing and verifying', () => {
  it('signs and verifies a pack of about 50 files quickly enough to verify at every load', async () => {
    const dir = await copyFixture();
    // 46 extra files, 4-40 KiB each: about what a built pack with parsers and recorded outputs ships.
    for (let i = 0; i < 46; i += 1) {
      const sub = join(dir, 'dist', `part${i % 5}`);
      await mkdir(sub, { recursive: true });
      await writeFile(join(sub, `module${i}.js`), `export const x${i} = ${JSON.stringify('x'.repeat(4096 * (1 + (i % 10))))};\n`);
    }
    const key = publisher();
    const trust = loadTrust(storeFor(key));
    await signPackDir(dir, key); // warm-up
    await verifyPackDir(dir, trust);

    const rounds = 10;
    let start = performance.now();
    for (let i = 0; i < rounds; i += 1) await signPackDir(dir, key);
    const signMs = (performance.now() - start) / rounds;
    start = performance.now();
    for (let i = 0; i < rounds; i += 1) expect((await verifyPackDir(dir, trust)).ok).toBe(true);
    const verifyMs = (performance.now() - start) / rounds;
    console.log(`[registry bench] 50 files: sign ${signMs.toFixed(1)} ms, verify ${verifyMs.toFixed(1)} ms (mean of ${rounds})`);
    // A generous bound for a shared 2-core machine; catches an accidental quadratic walk or per-file signature.
    expect(verifyMs).toBeLessThan(500);
  });
});
