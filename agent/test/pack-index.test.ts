import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  addTrustedKey,
  createPackIndex,
  newKeyFile,
  publicPart,
  signPackDir,
  signPackIndex,
  type KeyFile,
  type TrustStore,
} from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PUBLISHER, agentHome, agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli } from './support/cli.js';

/**
 * With an organisation's signed pack index held, the agent installs only the
 * versions and content it lists, and never goes back to an older index.
 */
const user = agentUser();
const ORG = newKeyFile({ publisher: 'acme-platform' });
let home: string;
let fixture: string;
let integrity: string;

function own(file: string): string {
  if (user) chownSync(file, user.uid, user.gid);
  return file;
}

function writeIndex(name: string, serial: number, versions: Array<{ version: string; integrity: string }>, key: KeyFile = ORG): string {
  const file = path.join(home, name);
  writeFileSync(file, JSON.stringify(signPackIndex(createPackIndex({ '@sonde/pack-fixture': versions }, { serial }), key)));
  return own(file);
}

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  integrity = (await signPackDir(fixture, TEST_PUBLISHER)).integrity;
  own(path.join(fixture, 'sonde-signature.json'));
  const trustFile = path.join(home, 'trust.json');
  const store = JSON.parse(readFileSync(trustFile, 'utf8')) as TrustStore;
  writeFileSync(trustFile, JSON.stringify(addTrustedKey(store, publicPart(ORG), { role: 'index' })));
  own(trustFile);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

describe('the organisation pack index', () => {
  it('refuses an index signed by a key that is not an index key', async () => {
    const forged = writeIndex('forged.json', 1, [{ version: '1.0.0', integrity }], newKeyFile());
    const result = await runCli(['trust', 'index', forged, '--json'], { home, user });
    expect(result.code).toBe(1);
    expect(json(result)).toMatchObject({ error: { code: 'SONDE_ERR_TRUST_INVALID' } });
  });

  it('refuses a version whose content differs from what the index lists', async () => {
    const other = 'sha256-' + Buffer.alloc(32, 7).toString('base64');
    expect(
      (await runCli(['trust', 'index', writeIndex('v1.json', 1, [{ version: '1.0.0', integrity: other }]), '--json'], { home, user })).code,
    ).toBe(0);
    const refused = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(refused.code).toBe(7);
    expect(json(refused)).toMatchObject({ error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode: 'SONDE_ERR_INDEX_NOT_FOUND' } });
    expect(json(refused).error).toMatchObject({ message: expect.stringContaining('the pack index lists') });
  });

  it('admits exactly what a newer index lists, and refuses going back to the older index', async () => {
    expect(
      (await runCli(['trust', 'index', writeIndex('v2.json', 2, [{ version: '1.0.0', integrity }]), '--json'], { home, user })).code,
    ).toBe(0);
    const installed = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(installed.code, installed.stdout).toBe(0);
    const stale = await runCli(['trust', 'index', path.join(home, 'v1.json'), '--json'], { home, user });
    expect(stale.code).toBe(1);
    expect(json(stale).error).toMatchObject({ verifyCode: 'SONDE_ERR_INDEX_STALE', message: expect.stringMatching(/older|serial/) });
    const scan = json<{ index: { serial: number; available: Array<{ packageName: string; newest: string; installed: boolean }> } }>(
      await runCli(['packs', 'scan', '--json'], { home, user }),
    );
    expect(scan.index).toEqual({ serial: 2, available: [{ packageName: '@sonde/pack-fixture', newest: '1.0.0', installed: true }] });
  });

  it('refuses a version the index does not list at all', async () => {
    expect(
      (await runCli(['trust', 'index', writeIndex('v3.json', 3, [{ version: '0.9.0', integrity }]), '--json'], { home, user })).code,
    ).toBe(0);
    await runCli(['packs', 'remove', 'fixture', '--json'], { home, user });
    const refused = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(json(refused).error).toMatchObject({
      verifyCode: 'SONDE_ERR_INDEX_NOT_FOUND',
      message: expect.stringContaining('is not in the organisation'),
    });
  });
});
