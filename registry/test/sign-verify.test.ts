import { existsSync } from 'node:fs';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { replaceTarFile } from '../src/pack/tar.js';
import { SignatureFileSchema, signPackDir, signPackTarball } from '../src/pack/signature.js';
import { verifyPack, verifyPackDir, verifyPackTarball, type VerifyResult } from '../src/pack/verify.js';
import { loadTrust } from '../src/trust/trust.js';
import { copyFixture, publisher, storeFor, tempDir } from './helpers.js';

const run = promisify(execFile);

function expectRefused(result: VerifyResult, code: string, file?: string): void {
  expect(result.ok ? 'accepted' : result.code).toBe(code);
  if (file !== undefined && !result.ok) expect(result.file).toBe(file);
}

async function signedFixture() {
  const key = publisher();
  const dir = await copyFixture();
  const signed = await signPackDir(dir, key);
  return { key, dir, signed, trust: loadTrust(storeFor(key)) };
}

describe('signing and verifying a pack folder', () => {
  it('verifies a freshly signed pack and reports who signed what', async () => {
    const { key, dir, signed, trust } = await signedFixture();
    const result = await verifyPackDir(dir, trust);
    expect(result).toMatchObject({
      ok: true,
      pack: 'demo',
      packageName: '@sonde-test/pack-demo',
      version: '1.0.0',
      keyId: key.keyId,
      publisher: 'acme',
      integrity: signed.integrity,
      via: 'allow',
      files: 4,
    });
    if (result.ok) expect(result.manifest.permissions.files).toEqual(['/proc/loadavg']);
  });

  it('signs every file and nothing about where the pack lives', async () => {
    const { dir } = await signedFixture();
    const signature = SignatureFileSchema.parse(JSON.parse(await readFile(join(dir, 'sonde-signature.json'), 'utf8')));
    expect(signature.statement.files.map((file) => file.path)).toEqual(['README.md', 'dist/index.js', 'package.json', 'sonde-pack.json']);
    expect(JSON.stringify(signature)).not.toMatch(/https?:|registry|\/tmp\//);
  });

  it('refuses an unsigned pack', async () => {
    const key = publisher();
    expectRefused(await verifyPackDir(await copyFixture(), loadTrust(storeFor(key))), 'SONDE_ERR_PACK_UNSIGNED');
  });

  it('still verifies when copied to another folder, as a mirror or offline bundle would hold it', async () => {
    const { dir, signed, trust } = await signedFixture();
    const mirror = join(await tempDir(), 'mirror', 'node_modules', '@sonde-test', 'pack-demo');
    await cp(dir, mirror, { recursive: true });
    // The pack's own installed dependencies are not part of the signed package.
    await cp(dir, join(mirror, 'node_modules', 'dep'), { recursive: true });
    expect(await verifyPackDir(mirror, trust)).toMatchObject({ ok: true, integrity: signed.integrity });
  });

  describe('tampering is refused with a code naming what changed', () => {
    it('file content changed', async () => {
      const { dir, trust } = await signedFixture();
      await writeFile(join(dir, 'dist', 'index.js'), 'import("node:child_process")\n');
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_FILE_CHANGED', 'dist/index.js');
    });

    it('file added', async () => {
      const { dir, trust } = await signedFixture();
      await writeFile(join(dir, 'dist', 'extra.js'), 'export {}\n');
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_FILE_ADDED', 'dist/extra.js');
    });

    it('file removed', async () => {
      const { dir, trust } = await signedFixture();
      await rm(join(dir, 'README.md'));
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_FILE_REMOVED', 'README.md');
    });

    it('manifest permissions widened', async () => {
      const { dir, trust } = await signedFixture();
      const path = join(dir, 'sonde-pack.json');
      const manifest = JSON.parse(await readFile(path, 'utf8'));
      manifest.permissions.files.push('/etc/shadow');
      await writeFile(path, JSON.stringify(manifest));
      const result = await verifyPackDir(dir, trust);
      expectRefused(result, 'SONDE_ERR_PACK_MANIFEST_MISMATCH', 'sonde-pack.json');
    });

    it('signature bytes flipped', async () => {
      const { dir, trust } = await signedFixture();
      const path = join(dir, 'sonde-signature.json');
      const file = JSON.parse(await readFile(path, 'utf8'));
      const bytes = Buffer.from(file.signature, 'base64');
      bytes[10] ^= 0x01;
      file.signature = bytes.toString('base64');
      await writeFile(path, JSON.stringify(file));
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_BAD_SIGNATURE');
    });

    it('signed statement edited to cover a changed file', async () => {
      const { dir, trust } = await signedFixture();
      await writeFile(join(dir, 'README.md'), 'evil\n');
      const path = join(dir, 'sonde-signature.json');
      const file = JSON.parse(await readFile(path, 'utf8'));
      const readme = file.statement.files.find((entry: { path: string }) => entry.path === 'README.md');
      readme.sha256 = (await import('../src/crypto/digest.js')).sha256Hex('evil\n');
      readme.size = 5;
      await writeFile(path, JSON.stringify(file));
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_BAD_SIGNATURE');
    });

    it('a symlink in the pack', async () => {
      const { dir, trust } = await signedFixture();
      await (await import('node:fs/promises')).symlink('/etc/passwd', join(dir, 'dist', 'link'));
      expectRefused(await verifyPackDir(dir, trust), 'SONDE_ERR_PACK_MALFORMED', 'dist/link');
    });
  });

  it('refuses a pack signed by a key the trust store does not hold', async () => {
    const { dir } = await signedFixture();
    const stranger = publisher('stranger');
    expectRefused(await verifyPackDir(dir, loadTrust(storeFor(stranger))), 'SONDE_ERR_PACK_UNKNOWN_KEY');
  });

  it('refuses to sign when sonde-pack.json and package.json disagree on the version', async () => {
    const dir = await copyFixture();
    const path = join(dir, 'package.json');
    const pkg = JSON.parse(await readFile(path, 'utf8'));
    pkg.version = '1.0.1';
    await writeFile(path, JSON.stringify(pkg));
    await expect(signPackDir(dir, publisher())).rejects.toMatchObject({ code: 'SONDE_ERR_SIGN_FAILED' });
  });
});

describe('npm tarballs', () => {
  async function npmPack(dir: string): Promise<string> {
    const out = await tempDir();
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
    return join(out, info.filename);
  }

  it('signs the tarball npm pack produced, verifies it unopened and once unpacked, with the same integrity', async () => {
    const key = publisher();
    const trust = loadTrust(storeFor(key));
    const tarball = await npmPack(await copyFixture());
    expectRefused(await verifyPackTarball(tarball, trust), 'SONDE_ERR_PACK_UNSIGNED');
    const signed = await signPackTarball(tarball, key);
    const result = await verifyPack(tarball, trust);
    expect(result).toMatchObject({ ok: true, integrity: signed.integrity });

    const unpacked = await tempDir();
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    expect(await verifyPackDir(join(unpacked, 'package'), trust)).toMatchObject({ ok: true, integrity: signed.integrity });

    // A module slipped into the tarball's node_modules would shadow the pack's imports: refused.
    const shadowed = join(unpacked, 'shadowed.tgz');
    await writeFile(shadowed, replaceTarFile(await readFile(tarball), 'node_modules/zod/index.js', Buffer.from('evil'), new Date()));
    expectRefused(await verifyPackTarball(shadowed, trust), 'SONDE_ERR_PACK_FILE_ADDED', 'node_modules/zod/index.js');

    // A tampered file inside an unpacked-and-repacked tarball is refused before anything is installed.
    await writeFile(join(unpacked, 'package', 'dist', 'index.js'), 'process.exit(1)\n');
    const tampered = join(unpacked, 'tampered.tgz');
    await run('tar', ['-czf', tampered, '-C', unpacked, 'package']);
    expectRefused(await verifyPackTarball(tampered, trust), 'SONDE_ERR_PACK_FILE_CHANGED', 'dist/index.js');
  });

  it('a folder signed before npm pack verifies as a tarball (the signature ships inside the package)', async () => {
    const key = publisher();
    const dir = await copyFixture();
    const signed = await signPackDir(dir, key);
    const tarball = await npmPack(dir);
    expect(await verifyPackTarball(tarball, loadTrust(storeFor(key)))).toMatchObject({ ok: true, integrity: signed.integrity });
  });

  it('refuses a tarball that is not gzip', async () => {
    const path = join(await tempDir(), 'bad.tgz');
    await writeFile(path, 'not a tarball');
    expectRefused(await verifyPackTarball(path, loadTrust(storeFor(publisher()))), 'SONDE_ERR_PACK_MALFORMED');
  });
});

const SYSTEM_PACK = join(import.meta.dirname, '..', '..', 'packs', 'system');

describe('a real built pack', () => {
  // Present once `npm run build` has run (as in CI); the fixture above covers a clean checkout.
  it.skipIf(!existsSync(join(SYSTEM_PACK, 'dist', 'index.js')) || !existsSync(join(SYSTEM_PACK, 'sonde-pack.json')))(
    'npm pack of packs/system signs as a tarball and verifies, packed and unpacked',
    async () => {
      const out = await tempDir();
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: SYSTEM_PACK });
      const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
      const tarball = join(out, info.filename);
      const key = publisher('sonde');
      const trust = loadTrust(storeFor(key));
      const signed = await signPackTarball(tarball, key);
      expect(await verifyPackTarball(tarball, trust)).toMatchObject({ ok: true, pack: 'system', integrity: signed.integrity });
      await run('tar', ['-xzf', tarball, '-C', out]);
      const result = await verifyPackDir(join(out, 'package'), trust);
      expect(result).toMatchObject({ ok: true, packageName: '@sonde/pack-system', files: signed.files });
    },
  );
});

describe('packaging advice when signing a folder', () => {
  it('warns when npm pack would leave signed files out or drop the signature', async () => {
    const dir = await copyFixture();
    expect((await signPackDir(dir, publisher())).warnings).toEqual([]);
    await writeFile(join(dir, 'notes.txt'), 'local notes\n');
    const path = join(dir, 'package.json');
    const pkg = JSON.parse(await readFile(path, 'utf8'));
    pkg.files = ['dist', 'sonde-pack.json'];
    await writeFile(path, JSON.stringify(pkg));
    const { warnings } = await signPackDir(dir, publisher());
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('unsigned');
    expect(warnings[1]).toContain('leave out notes.txt');
  });
});
