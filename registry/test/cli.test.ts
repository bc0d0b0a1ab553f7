import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { newKeyFile, publicPart, writeKeyFile } from '../src/crypto/keys.js';
import { signPackDir } from '../src/pack/signature.js';
import type { TrustStoreInput } from '../src/trust/schema.js';
import { copyFixture, tempDir } from './helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real binary as a separate process, as an operator or CI script runs it. */
async function cli(cwd: string, ...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Keys, trust store and a signed pack written with the library, so only the commands under test are spawned. */
async function setup(): Promise<{ work: string; pack: string }> {
  const work = await tempDir();
  const pack = await copyFixture();
  const keys = { acme: newKeyFile({ publisher: 'acme' }), hub: newKeyFile(), org: newKeyFile() };
  for (const [name, key] of Object.entries(keys)) {
    await writeKeyFile(join(work, `${name}.json`), key);
    await writeFile(join(work, `${name}.pub.json`), JSON.stringify(publicPart(key)));
  }
  const pub = (key: typeof keys.acme) => ({ keyId: key.keyId, publicKey: key.publicKey });
  const store: TrustStoreInput = {
    type: 'sonde-trust-store',
    keys: [{ ...pub(keys.acme), publisher: 'acme' }],
    hubKeys: [pub(keys.hub)],
    indexKeys: [pub(keys.org)],
    policy: { allow: [{ publisher: 'acme' }] },
  };
  await writeFile(join(work, 'trust.json'), JSON.stringify(store));
  await signPackDir(pack, keys.acme);
  return { work, pack };
}

beforeAll(async () => {
  // CI builds before testing; build here only when run on its own from a clean tree.
  if (!existsSync(CLI)) await run('npx', ['tsc', '-b', 'registry'], { cwd: root });
}, 120_000);

// Each test has its own folders, so they run side by side: most of the time is process start-up.
describe.concurrent('sonde-registry CLI', { timeout: 120_000 }, () => {
  it('keygen → trust → sign → verify → tamper → verify refuses, with exit codes and --json', async () => {
    const work = await tempDir();
    const pack = await copyFixture();
    expect((await cli(work, 'keygen', '--out', 'acme.json', '--publisher', 'acme')).code).toBe(0);
    expect((await cli(work, 'trust', 'init', '--out', 'trust.json')).code).toBe(0);
    expect((await cli(work, 'trust', 'add-key', 'trust.json', '--key', 'acme.pub.json', '--allow', 'demo')).code).toBe(0);

    const signed = await cli(work, 'sign', pack, '--key', 'acme.json', '--json');
    expect(signed.code).toBe(0);
    const { integrity, keyId } = JSON.parse(signed.stdout);

    const ok = await cli(work, 'verify', pack, '--trust', 'trust.json');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`OK @sonde-test/pack-demo@1.0.0 (pack demo), signed by acme ${keyId}`);
    expect(ok.stdout).toContain(integrity);

    await writeFile(join(pack, 'dist', 'index.js'), 'export default {}\n');
    const [refused, json] = await Promise.all([
      cli(work, 'verify', pack, '--trust', 'trust.json'),
      cli(work, 'verify', pack, '--trust', 'trust.json', '--json'),
    ]);
    expect([refused.code, json.code]).toEqual([1, 1]);
    expect(refused.stderr).toContain('SONDE_ERR_PACK_FILE_CHANGED: file dist/index.js differs from the signed digest');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 'SONDE_ERR_PACK_FILE_CHANGED', file: 'dist/index.js' });
  });

  it('revoke writes a hub-signed list that verify honours', async () => {
    const { work, pack } = await setup();
    const revoked = await cli(
      work,
      'revoke',
      '--list',
      'revocations.json',
      '--key',
      'hub.json',
      '--pack',
      '@sonde-test/pack-demo@1.0.0',
      '--reason',
      'CVE',
    );
    expect(revoked.code).toBe(0);
    const result = await cli(work, 'verify', pack, '--trust', 'trust.json', '--revocations', 'revocations.json', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ code: 'SONDE_ERR_PACK_VERSION_REVOKED' });

    // A list signed by another key is refused as trust material, not silently ignored.
    await cli(work, 'revoke', '--list', 'other-list.json', '--key', 'org.json', '--key-id', '0123456789abcdef');
    const forged = await cli(work, 'verify', pack, '--trust', 'trust.json', '--revocations', 'other-list.json');
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('SONDE_ERR_REVOCATIONS_INVALID');
  });

  it('index create → sign → verify → resolve, refusing a downgrade unless --allow-downgrade', async () => {
    const { work, pack } = await setup();
    expect((await cli(work, 'index', 'create', pack, '--out', 'index.json', '--trust', 'trust.json')).code).toBe(0);
    expect((await cli(work, 'index', 'verify', 'index.json', '--trust', 'trust.json')).code).toBe(1);
    expect((await cli(work, 'index', 'sign', 'index.json', '--key', 'org.json')).code).toBe(0);
    const verified = await cli(work, 'index', 'verify', 'index.json', '--trust', 'trust.json');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('@sonde-test/pack-demo: 1.0.0');

    const down = await cli(work, 'index', 'resolve', 'index.json', '@sonde-test/pack-demo', '--trust', 'trust.json', '--current', '1.1.0');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('SONDE_ERR_DOWNGRADE');
    const allowed = await cli(
      work,
      'index',
      'resolve',
      'index.json',
      '@sonde-test/pack-demo',
      '--trust',
      'trust.json',
      '--current',
      '1.1.0',
      '--allow-downgrade',
    );
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('downgrade @sonde-test/pack-demo → 1.0.0');

    const index = JSON.parse(await readFile(join(work, 'index.json'), 'utf8'));
    index.packs['@sonde-test/pack-demo'][0].version = '1.9.0';
    await writeFile(join(work, 'index.json'), JSON.stringify(index));
    expect((await cli(work, 'index', 'verify', 'index.json', '--trust', 'trust.json')).code).toBe(1);
  });

  it('exits 2 on usage errors and 1 on unreadable inputs, without stack traces', async () => {
    const work = await tempDir();
    const [usage, badFlag, unknown, missing] = await Promise.all([
      cli(work, 'sign'),
      cli(work, 'verify', '.', '--bogus'),
      cli(work, 'frobnicate'),
      cli(work, 'verify', '.', '--trust', 'nope.json'),
    ]);
    expect([usage.code, badFlag.code, unknown.code]).toEqual([2, 2, 2]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('SONDE_ERR_TRUST_INVALID');
    expect(missing.stderr + usage.stderr).not.toMatch(/\n\s+at /);
  });
});
