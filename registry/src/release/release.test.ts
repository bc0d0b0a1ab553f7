import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { newKeyFile, signDetached, type KeyFile } from '../crypto/keys.js';
import { readPackTarball } from '../pack/contents.js';
import { replaceTarFile } from '../pack/tar.js';
import { createRevocationList } from '../revocation/list.js';
import type { TrustStoreInput } from '../trust/schema.js';
import { loadTrust } from '../trust/trust.js';
import {
  RELEASE_SIGNATURE_FILE,
  signReleaseTarball,
  verifyReleaseContents,
  verifyReleaseDir,
  verifyReleaseTarball,
  type ReleaseVerifyResult,
} from './release.js';

const run = promisify(execFile);
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sonde-release-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;

/** A tiny fake program package, packed with the real `npm pack`. */
async function packRelease(version = '1.2.0', extra: Record<string, string> = {}, name = '@sonde/agent'): Promise<string> {
  const dir = join(root, `src-${(counter += 1)}`);
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name, version, type: 'module', bin: { sonde: './dist/cli.js' }, files: ['dist'] }),
    'dist/cli.js': `#!/usr/bin/env node\nconsole.log('${version}');\n`,
    ...extra,
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root], { cwd: dir });
  return join(root, (JSON.parse(stdout) as { filename: string }[])[0].filename);
}

function storeFor(key: KeyFile, extra: Partial<TrustStoreInput> = {}): TrustStoreInput {
  return {
    type: 'sonde-trust-store',
    keys: [{ keyId: key.keyId, publicKey: key.publicKey, publisher: key.publisher ?? 'sonde' }],
    policy: { allow: [{ publisher: key.publisher ?? 'sonde', pack: '@sonde/agent' }] },
    ...extra,
  };
}

function codeOf(result: ReleaseVerifyResult): string {
  return result.ok ? 'accepted' : result.code;
}

describe('signed agent releases', () => {
  const key = newKeyFile({ publisher: 'sonde' });
  const trust = loadTrust(storeFor(key));

  it('signs an npm pack tarball and verifies it in memory, in a tarball and unpacked', async () => {
    const tgz = await packRelease();
    const signed = await signReleaseTarball(tgz, key);
    expect(signed.signature.statement).toMatchObject({ type: 'sonde-release', package: { name: '@sonde/agent', version: '1.2.0' } });
    const result = await verifyReleaseTarball(tgz, trust, { expectedName: '@sonde/agent' });
    expect(result).toMatchObject({
      ok: true,
      packageName: '@sonde/agent',
      version: '1.2.0',
      keyId: key.keyId,
      via: 'allow',
      bundled: false,
    });
    expect(result.ok && result.integrity).toBe(signed.integrity);

    // Unpacked with the system tar: the folder verifies too, and npm-installed node_modules are left out.
    const dir = join(root, 'unpacked');
    await mkdir(dir, { recursive: true });
    await run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1']);
    expect(codeOf(await verifyReleaseDir(dir, trust))).toBe('accepted');
    await mkdir(join(dir, 'node_modules', 'dep'), { recursive: true });
    await writeFile(join(dir, 'node_modules', 'dep', 'index.js'), '');
    expect(codeOf(await verifyReleaseDir(dir, trust))).toBe('accepted');
    await writeFile(join(dir, 'dist', 'extra.js'), 'evil()');
    expect(await verifyReleaseDir(dir, trust)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_ADDED', file: 'dist/extra.js' });
  });

  it('refuses tampered, unsigned and foreign releases', async () => {
    const tgz = await packRelease('1.3.0');
    expect(codeOf(await verifyReleaseTarball(tgz, trust))).toBe('SONDE_ERR_PACK_UNSIGNED');
    await signReleaseTarball(tgz, key);
    const bytes = await readFile(tgz);

    const changed = join(root, 'changed.tgz');
    await writeFile(changed, replaceTarFile(bytes, 'dist/cli.js', Buffer.from('evil()'), new Date()));
    expect(await verifyReleaseTarball(changed, trust)).toMatchObject({ code: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'dist/cli.js' });

    const added = join(root, 'added.tgz');
    await writeFile(added, replaceTarFile(bytes, 'dist/backdoor.js', Buffer.from('evil()'), new Date()));
    expect(await verifyReleaseTarball(added, trust)).toMatchObject({ code: 'SONDE_ERR_PACK_FILE_ADDED', file: 'dist/backdoor.js' });

    const contents = await readPackTarball(tgz);
    contents.set('package.json', Buffer.from(JSON.stringify({ name: '@sonde/agent', version: '9.9.9' })));
    expect(codeOf(verifyReleaseContents(contents, trust))).toBe('SONDE_ERR_PACK_FILE_CHANGED');

    const other = newKeyFile({ publisher: 'sonde' });
    expect(codeOf(await verifyReleaseTarball(tgz, loadTrust(storeFor(other))))).toBe('SONDE_ERR_PACK_UNKNOWN_KEY');

    // Forged: the statement edited (version bump) keeps the old signature.
    const forged = await readPackTarball(tgz);
    const file = JSON.parse(forged.get(RELEASE_SIGNATURE_FILE)!.toString('utf8')) as { statement: { publishedAt: string } };
    file.statement.publishedAt = new Date(Date.now() - 1000).toISOString();
    forged.set(RELEASE_SIGNATURE_FILE, Buffer.from(JSON.stringify(file)));
    expect(codeOf(verifyReleaseContents(forged, trust))).toBe('SONDE_ERR_PACK_BAD_SIGNATURE');

    const wrongName = await packRelease('1.0.0', {}, '@evil/agent');
    await signReleaseTarball(wrongName, key);
    expect(codeOf(await verifyReleaseTarball(wrongName, trust, { expectedName: '@sonde/agent' }))).toBe('SONDE_ERR_PACK_NOT_ALLOWED');
  });

  it('a pack signature is not a release signature (separate file and domain)', async () => {
    const tgz = await packRelease('1.4.0');
    await signReleaseTarball(tgz, key);
    const contents = await readPackTarball(tgz);
    const sig = JSON.parse(contents.get(RELEASE_SIGNATURE_FILE)!.toString('utf8')) as { statement: unknown; signature: string };
    // The same statement signed by the same key, but in the pack domain: refused.
    sig.signature = signDetached('sonde-pack/v1', canonicalJson(sig.statement), key);
    contents.set(RELEASE_SIGNATURE_FILE, Buffer.from(JSON.stringify(sig)));
    expect(codeOf(verifyReleaseContents(contents, trust))).toBe('SONDE_ERR_PACK_BAD_SIGNATURE');
    // A pack's sonde-signature.json in place of the release signature: unsigned as a release.
    contents.delete(RELEASE_SIGNATURE_FILE);
    contents.set('sonde-signature.json', Buffer.from(JSON.stringify(sig)));
    expect(codeOf(verifyReleaseContents(contents, trust))).toBe('SONDE_ERR_PACK_UNSIGNED');
  });

  it('revoked keys, revoked versions, key windows and policy', async () => {
    const hub = newKeyFile();
    const tgz = await packRelease('2.0.0');
    await signReleaseTarball(tgz, key, { publishedAt: new Date('2026-06-01T00:00:00Z') });
    const hubKeys = [{ keyId: hub.keyId, publicKey: hub.publicKey }];

    const revokedKey = loadTrust(storeFor(key, { hubKeys }), {
      revocations: createRevocationList({ serial: 1, keys: [{ keyId: key.keyId, reason: 'stolen' }] }, hub),
    });
    expect(await verifyReleaseTarball(tgz, revokedKey)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_KEY_REVOKED' });

    const revokedVersion = loadTrust(storeFor(key, { hubKeys }), {
      revocations: createRevocationList({ serial: 1, packs: [{ pack: '@sonde/agent', versions: '<=2.0.0', reason: 'bad build' }] }, hub),
    });
    expect(codeOf(await verifyReleaseTarball(tgz, revokedVersion))).toBe('SONDE_ERR_PACK_VERSION_REVOKED');

    const expired = { keyId: key.keyId, publicKey: key.publicKey, publisher: 'sonde', notAfter: '2026-01-01T00:00:00Z' };
    expect(codeOf(await verifyReleaseTarball(tgz, loadTrust(storeFor(key, { keys: [expired] }))))).toBe('SONDE_ERR_PACK_KEY_NOT_VALID');

    // A pack publisher allowed for every pack (`*`) may not ship an agent: releases need a rule naming the package.
    const broad = loadTrust(storeFor(key, { policy: { allow: [{ publisher: 'sonde', pack: '*' }] } }));
    expect(codeOf(await verifyReleaseTarball(tgz, broad))).toBe('SONDE_ERR_PACK_NOT_ALLOWED');
    const ranged = loadTrust(storeFor(key, { policy: { allow: [{ publisher: 'sonde', pack: '@sonde/agent', versions: '^1.0.0' }] } }));
    expect(codeOf(await verifyReleaseTarball(tgz, ranged))).toBe('SONDE_ERR_PACK_NOT_ALLOWED');
    const denied = loadTrust(
      storeFor(key, {
        policy: { allow: [{ publisher: 'sonde', pack: '@sonde/agent' }], deny: [{ pack: '@sonde/agent', versions: '2.0.0' }] },
      }),
    );
    expect(codeOf(await verifyReleaseTarball(tgz, denied))).toBe('SONDE_ERR_PACK_DENIED');
  });

  it('a bundled release signs its node_modules and refuses files added there', async () => {
    const tgz = await packRelease('3.0.0', {
      'package.json': JSON.stringify({
        name: '@sonde/agent',
        version: '3.0.0',
        bin: { sonde: './dist/cli.js' },
        files: ['dist'],
        dependencies: { dep: '1.0.0' },
        bundleDependencies: ['dep'],
      }),
      'node_modules/dep/package.json': JSON.stringify({ name: 'dep', version: '1.0.0' }),
      'node_modules/dep/index.js': 'export default 1;\n',
    });
    await signReleaseTarball(tgz, key);
    const result = await verifyReleaseTarball(tgz, trust);
    expect(result).toMatchObject({ ok: true, bundled: true });
    const dir = join(root, 'bundled');
    await mkdir(dir, { recursive: true });
    await run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1']);
    expect(codeOf(await verifyReleaseDir(dir, trust))).toBe('accepted');
    await writeFile(join(dir, 'node_modules', 'dep', 'shadow.js'), 'evil()');
    expect(await verifyReleaseDir(dir, trust)).toMatchObject({ code: 'SONDE_ERR_PACK_FILE_ADDED', file: 'node_modules/dep/shadow.js' });
  });
});
