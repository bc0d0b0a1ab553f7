import { chownSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRotationStatement, newKeyFile, publicPart, signPackDir } from '@sonde/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PUBLISHER, agentHome, agentUser, ensureBuilt, json, prepareFixturePack, removeDir, runCli } from './support/cli.js';

/** `sonde trust`: key rotation and deny rules, through the real CLI as the agent user. */
const user = agentUser();
const SUCCESSOR = newKeyFile({ publisher: 'sonde-tests' });
let home: string;
let fixture: string;

function writeOwned(name: string, value: unknown): string {
  const file = path.join(home, name);
  writeFileSync(file, JSON.stringify(value));
  if (user) chownSync(file, user.uid, user.gid);
  return file;
}

beforeAll(async () => {
  ensureBuilt();
  home = agentHome(user);
  fixture = await prepareFixturePack(user);
  // The next version of the publisher's packs is signed with the new key.
  await signPackDir(fixture, SUCCESSOR);
  if (user) chownSync(path.join(fixture, 'sonde-signature.json'), user.uid, user.gid);
});

afterAll(() => {
  if (home) removeDir(home);
  if (fixture) removeDir(path.dirname(fixture));
});

describe('sonde trust', () => {
  it('refuses a pack signed by a key it has never heard of', async () => {
    const refused = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(json(refused)).toMatchObject({ error: { code: 'SONDE_ERR_PACK_REFUSED', verifyCode: 'SONDE_ERR_PACK_UNKNOWN_KEY' } });
  });

  it('refuses a rotation that the old key did not sign', async () => {
    // A stranger's hand-over to the new key, relabelled as coming from the trusted key: its signature cannot match.
    const forged = { ...createRotationStatement(newKeyFile(), publicPart(SUCCESSOR)), from: TEST_PUBLISHER.keyId };
    const result = await runCli(['trust', 'add-rotation', writeOwned('forged.json', forged), '--json'], { home, user });
    expect(result.code).toBe(1);
    expect(json(result)).toMatchObject({ error: { code: 'SONDE_ERR_TRUST_INVALID' } });
  });

  it('accepts the hand-over signed by the old key: packs signed by the new key install', async () => {
    const rotation = createRotationStatement(TEST_PUBLISHER, publicPart(SUCCESSOR));
    const added = await runCli(['trust', 'add-rotation', writeOwned('rotation.json', rotation), '--json'], { home, user });
    expect(json(added)).toMatchObject({ ok: true, from: TEST_PUBLISHER.keyId, to: SUCCESSOR.keyId });
    // The new key is valid from the hand-over on: what it signed before is refused (KEY_NOT_VALID), so sign again now.
    const early = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(json(early)).toMatchObject({ error: { verifyCode: 'SONDE_ERR_PACK_KEY_NOT_VALID' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await signPackDir(fixture, SUCCESSOR);
    if (user) chownSync(path.join(fixture, 'sonde-signature.json'), user.uid, user.gid);
    const installed = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(installed.code, installed.stdout).toBe(0);

    expect(json(installed)).toMatchObject({ keyId: SUCCESSOR.keyId, state: 'pending' });
  });

  it('a deny rule on top of the allow refuses the pack, at install and at the next read of what is installed', async () => {
    const denied = await runCli(['trust', 'deny', 'fixture', '--reason', 'withdrawn by the security team', '--json'], { home, user });
    expect(denied.code).toBe(0);
    const list = json<{ packs: Array<{ state: string; code?: string; reason?: string }> }>(
      await runCli(['packs', 'list', '--json'], { home, user }),
    );
    expect(list.packs[0]).toMatchObject({ state: 'failed', code: 'SONDE_ERR_PACK_DENIED', reason: expect.stringContaining('withdrawn') });
    const again = await runCli(['packs', 'install', fixture, '--json'], { home, user });
    expect(json(again)).toMatchObject({ error: { verifyCode: 'SONDE_ERR_PACK_DENIED' } });
    const shown = json<{ store: { policy: { deny: Array<{ pack: string }> }; rotations: unknown[] } }>(
      await runCli(['trust', 'list', '--json'], { home, user }),
    );
    expect(shown.store.policy.deny).toEqual([expect.objectContaining({ pack: 'fixture' })]);
    expect(shown.store.rotations).toHaveLength(1);
  });
});
