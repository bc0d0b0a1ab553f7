import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addTrustedKey, emptyTrustStore, loadTrust, newKeyFile, signedPackCopy } from '@sonde/registry';
import { afterAll, describe, expect, it } from 'vitest';
import { isPackDependency, treeDigest } from '../src/packs/digest.js';
import { checkVersion } from '../src/packs/store.js';

/**
 * The first registration after a start reports each pack's folder digest from the verification that just read
 * every file (agent/src/runtime/agent.ts), instead of reading and hashing the folder a second time. The hub
 * compares that digest with the agent's baseline, so it must be exactly what hashing the folder gives.
 */
const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-attest-digest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the verified pack digest in the attestation', () => {
  it('equals the tree digest of the folder, nested files and the signature included', async () => {
    const source = path.join(root, 'src');
    mkdirSync(path.join(source, 'lib/deep'), { recursive: true });
    writeFileSync(
      path.join(source, 'package.json'),
      JSON.stringify({
        name: '@sonde/pack-digest',
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
        files: ['index.js', 'lib', 'sonde-pack.json'],
        peerDependencies: { '@sonde/pack-sdk': '0.1.0', zod: '^4.1.0' },
      }),
    );
    writeFileSync(path.join(source, 'index.js'), 'export default {};\n');
    writeFileSync(path.join(source, 'lib/deep/util.js'), 'export const x = 1;\n');
    writeFileSync(
      path.join(source, 'sonde-pack.json'),
      JSON.stringify({
        name: 'digest',
        version: '1.0.0',
        description: 'digest fixture',
        permissions: {},
        probes: [{ name: 'noop', description: 'does nothing', params: {}, result: {} }],
      }),
    );
    const key = newKeyFile({ publisher: 'digest-test' });
    const signed = await signedPackCopy(source, key, path.join(root, 'signed'));
    const trust = loadTrust(addTrustedKey(emptyTrustStore(), key, { allow: ['*'] }));

    const checked = await checkVersion(signed.dir, trust);
    if (!checked.ok) throw new Error(`${checked.code}: ${checked.reason}`);
    expect(checked.pack.verifiedTreeSha256).toBe(treeDigest(signed.dir, isPackDependency));

    // A changed file is refused by verification, so a stale verified digest can never be reported for it.
    writeFileSync(path.join(signed.dir, 'lib/deep/util.js'), 'export const x = 2;\n');
    expect(await checkVersion(signed.dir, trust)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_CHANGED' });
  });
});
