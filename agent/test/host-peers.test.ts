import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { digestFiles, manifestDigest, readPackDir, serializeSignature, signDetached, type PackStatement } from '@sonde/registry';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PUBLISHER, agentHome, agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli } from './support/cli.js';

/**
 * A pack gets @sonde/pack-sdk and zod from the agent, never from its own
 * dependencies: they must be peerDependencies. A pack that lists the SDK only
 * as a devDependency used to install, get approved, and then fail at every
 * start ("not installed beside the pack"). `sonde packs install` now refuses
 * it and says what to change. Such a pack can still arrive signed (by an older
 * or another signer), so the signature here is written by hand.
 */
const user = agentUser();
let home: string;
let fixture: string;

async function signAsIs(dir: string): Promise<void> {
  const contents = await readPackDir(dir);
  const pkg = JSON.parse(contents.get('package.json')!.toString('utf8')) as { name: string; version: string };
  const raw = JSON.parse(contents.get('sonde-pack.json')!.toString('utf8')) as { name: string; version: string };
  const statement: PackStatement = {
    type: 'sonde-pack',
    package: { name: pkg.name, version: pkg.version },
    pack: { name: raw.name, version: raw.version },
    manifest: manifestDigest(raw),
    files: digestFiles(contents),
    publishedAt: new Date().toISOString(),
    keyId: TEST_PUBLISHER.keyId,
  };
  const signature = {
    format: 'sonde-signature/1' as const,
    statement,
    signature: signDetached('sonde-pack/v1', canonicalJson(statement), TEST_PUBLISHER),
  };
  writeFileSync(path.join(dir, 'sonde-signature.json'), serializeSignature(signature));
}

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

describe('sonde packs install and the host-peer contract', () => {
  it('refuses a signed pack that lists @sonde/pack-sdk only as a devDependency, names the fix, writes nothing', async () => {
    const dir = path.join(path.dirname(fixture), 'dev-only');
    cpSync(fixture, dir, { recursive: true });
    const file = path.join(dir, 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    pkg.devDependencies = { '@sonde/pack-sdk': '0.1.0' };
    pkg.peerDependencies = { zod: '^4.1.0' };
    writeFileSync(file, JSON.stringify(pkg, null, 2));
    await signAsIs(dir);

    const result = await runCli(['packs', 'install', dir, '--json'], { home, user });
    expect(result.code).not.toBe(0);
    const { error } = json<{ ok: boolean; error: { code: string; message: string } }>(result);
    expect(error.code).toBe('SONDE_ERR_PACK_INVALID');
    expect(error.message).toContain('@sonde/pack-fixture@1.0.0: package.json must list @sonde/pack-sdk and zod under "peerDependencies"');
    expect(error.message).toContain('add @sonde/pack-sdk to "peerDependencies" (keeping it in "devDependencies" is fine)');
    const store = path.join(home, 'packs/store');
    expect(existsSync(store) ? readdirSync(store) : []).toEqual([]);
  });

  it('installs the same pack when both are peerDependencies', async () => {
    const result = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ ok: true, name: 'fixture', state: 'pending' });
  });
});
