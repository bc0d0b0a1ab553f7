import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../src/errors.js';
import { fetchPackTarball, installVerifiedPack, storePath, verifyInstalled } from '../src/install/index.js';
import { signPackDir, signPackTarball } from '../src/pack/signature.js';
import { replaceTarFile } from '../src/pack/tar.js';
import { loadTrust } from '../src/trust/trust.js';
import { copyFixture, publisher, storeFor, tempDir } from './helpers.js';

const run = promisify(execFile);

async function signedTarball() {
  const key = publisher();
  const dir = await copyFixture();
  const out = await tempDir();
  const { stdout } = await run('npm', ['pack', dir, '--pack-destination', out, '--ignore-scripts', '--json']);
  const tarball = join(out, (JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>)[0].filename);
  await signPackTarball(tarball, key);
  return { key, tarball, trust: loadTrust(storeFor(key)) };
}

describe('installing a verified pack into a versioned store', () => {
  it('fetches a local tarball as is and installs exactly the signed files', async () => {
    const { tarball, trust } = await signedTarball();
    const fetched = await fetchPackTarball(tarball);
    expect(fetched.tarball).toBe(tarball);
    const store = await tempDir();
    const installed = await installVerifiedPack(store, { tarball: fetched.tarball }, trust);
    if (!installed.ok) throw new Error(installed.reason);
    expect(installed.dir).toBe(storePath(store, '@sonde-test/pack-demo', '1.0.0'));
    expect(installed.reused).toBe(false);
    expect((await readdir(installed.dir)).sort()).toEqual(['README.md', 'dist', 'package.json', 'sonde-pack.json', 'sonde-signature.json']);
    expect(await verifyInstalled(installed.dir, trust)).toMatchObject({ ok: true, integrity: installed.verified.integrity });
    // A second install of the same content writes nothing.
    expect(await installVerifiedPack(store, { tarball }, trust)).toMatchObject({ ok: true, reused: true });
  });

  it('writes nothing at all for a tampered tarball', async () => {
    const { tarball, trust } = await signedTarball();
    const bad = join(await tempDir(), 'bad.tgz');
    await writeFile(bad, replaceTarFile(await readFile(tarball), 'dist/index.js', Buffer.from('process.exit(1)\n'), new Date()));
    const store = await tempDir();
    expect(await installVerifiedPack(store, { tarball: bad }, trust)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_CHANGED' });
    expect(await readdir(store)).toEqual([]);
  });

  it('counts a node_modules added to an installed copy as an unsigned file', async () => {
    const { tarball, trust } = await signedTarball();
    const installed = await installVerifiedPack(await tempDir(), { tarball }, trust);
    if (!installed.ok) throw new Error(installed.reason);
    await mkdir(join(installed.dir, 'node_modules', '@sonde', 'pack-sdk'), { recursive: true });
    await writeFile(join(installed.dir, 'node_modules', '@sonde', 'pack-sdk', 'index.js'), 'export default 1;\n');
    expect(await verifyInstalled(installed.dir, trust)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_ADDED' });
  });

  it('replaces a copy that no longer verifies and refuses a same-version copy with other signed content', async () => {
    const { key, tarball, trust } = await signedTarball();
    const store = await tempDir();
    const first = await installVerifiedPack(store, { tarball }, trust);
    if (!first.ok) throw new Error(first.reason);
    await writeFile(join(first.dir, 'README.md'), 'changed\n');
    expect(await installVerifiedPack(store, { tarball }, trust)).toMatchObject({ ok: true, reused: false });
    expect(await verifyInstalled(first.dir, trust)).toMatchObject({ ok: true });

    const other = await copyFixture();
    await writeFile(join(other, 'README.md'), 'another build of the same version\n');
    await signPackDir(other, key);
    await expect(installVerifiedPack(store, { dir: other }, trust)).rejects.toMatchObject({ code: 'SONDE_ERR_PACK_VERSION_CONFLICT' });
  });

  it('reports a package npm cannot fetch with npm’s own reason, and refuses an option posing as a spec', async () => {
    const env = { ...process.env, npm_config_fetch_retries: '0' };
    const error = await fetchPackTarball('@sonde-test/does-not-exist@1.0.0', { registry: 'http://127.0.0.1:9/', env }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('SONDE_ERR_FETCH_FAILED');
    expect((error as RegistryError).message).toMatch(/npm pack @sonde-test\/does-not-exist@1\.0\.0: .+/);
    await expect(fetchPackTarball('--registry=http://evil')).rejects.toMatchObject({ code: 'SONDE_ERR_FETCH_FAILED' });
  });
});
