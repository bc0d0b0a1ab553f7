import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTrust, newKeyFile, verifyPackTarball } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPackFactory, npm, startRegistry, type PackFactory, type Registry } from './support/verdaccio.js';

/**
 * The harness under issue 12's "done when": two real npm registries (verdaccio
 * on loopback, no uplinks) that take signed packs with `npm publish` and give
 * back the very same bytes to `npm pack`, so a signature made once verifies
 * from either registry.
 */

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

let first: Registry;
let second: Registry;
let factory: PackFactory;
let scratch: string;
const key = newKeyFile({ publisher: 'e2e' });
const trust = loadTrust({
  type: 'sonde-trust-store',
  keys: [{ keyId: key.keyId, publicKey: key.publicKey, publisher: 'e2e' }],
  policy: { allow: [{ publisher: 'e2e' }] },
});

beforeAll(async () => {
  [first, second] = await Promise.all([startRegistry(), startRegistry()]);
  factory = createPackFactory();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-fetch-'));
}, 300_000);

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  factory?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('verdaccio harness', () => {
  it('runs two independent registries on loopback', () => {
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(second.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(first.url).not.toBe(second.url);
  });

  it('publishes a signed pack and npm pack fetches the same bytes back, verifying from either registry', async () => {
    const built = await factory.build({ version: '1.0.0' }, key);
    await expect(verifyPackTarball(built.tarball, trust)).resolves.toMatchObject({ ok: true, version: '1.0.0' });
    await first.publish(built.tarball);
    await second.publish(built.tarball);

    const fromFirst = await first.fetch(`${built.packageName}@1.0.0`, mkdtempSync(path.join(scratch, 'a-')));
    const fromSecond = await second.fetch(`${built.packageName}@1.0.0`, mkdtempSync(path.join(scratch, 'b-')));
    expect(sha256(fromFirst)).toBe(sha256(built.tarball));
    expect(sha256(fromSecond)).toBe(sha256(built.tarball));
    const verified = [await verifyPackTarball(fromFirst, trust), await verifyPackTarball(fromSecond, trust)];
    for (const result of verified) expect(result).toMatchObject({ ok: true, integrity: built.integrity, keyId: key.keyId });
  }, 60_000);

  it('proxies nothing: a package only in one registry, or only on npmjs, is a 404 in the other', async () => {
    const built = await factory.build({ version: '1.1.0', grants: ['/proc/loadavg', '/proc/uptime'] }, key);
    await second.publish(built.tarball);
    const missing = await npm(['view', `${built.packageName}@1.1.0`, 'version', '--registry', first.url, '--userconfig', first.npmrc], {
      env: { PATH: process.env.PATH, HOME: scratch, npm_config_cache: first.npmCache },
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/E404|404/);
    const upstream = await npm(['view', 'left-pad', 'version', '--registry', first.url, '--userconfig', first.npmrc], {
      env: { PATH: process.env.PATH, HOME: scratch, npm_config_cache: first.npmCache },
    });
    expect(upstream.code).not.toBe(0);
    expect(upstream.stderr).toMatch(/E404|404/);
  }, 60_000);

  it('keeps a tampered tarball as published, so the verifier (not the registry) catches it', async () => {
    const built = await factory.build({ version: '1.0.1' }, key);
    const tampered = factory.tamper(built.tarball, 'index.js', (code) => code.replace('files: GRANTS', 'files: ["/etc/shadow"]'));
    await first.publish(tampered);
    const fetched = await first.fetch(`${built.packageName}@1.0.1`, mkdtempSync(path.join(scratch, 't-')));
    expect(sha256(fetched)).toBe(sha256(tampered));
    expect(await verifyPackTarball(fetched, trust)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'index.js' });
  }, 60_000);

  it('refuses a publish without the test user token', async () => {
    const built = await factory.build({ version: '9.9.9' }, key);
    const anonymous = await npm(['publish', built.tarball, '--registry', first.url, '--userconfig', path.join(scratch, 'none.npmrc')], {
      env: { PATH: process.env.PATH, HOME: scratch, npm_config_cache: first.npmCache },
    });
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/E401|ENEEDAUTH|401|auth/i);
  }, 60_000);
});
