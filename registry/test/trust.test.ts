import { describe, expect, it } from 'vitest';
import { createRevocationList } from '../src/revocation/list.js';
import { signPackDir } from '../src/pack/signature.js';
import { verifyPackDir, type VerifyResult } from '../src/pack/verify.js';
import { createRotationStatement } from '../src/trust/rotation.js';
import { loadTrust } from '../src/trust/trust.js';
import { copyFixture, publisher, storeFor, trusted } from './helpers.js';

function code(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.code;
}

const JAN = new Date('2026-01-15T00:00:00Z');
const JUL = new Date('2026-07-15T00:00:00Z');

describe('key validity windows are judged at the signed publish time', () => {
  it('refuses a key that is valid now but was not yet valid when the pack was published', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key, { publishedAt: JAN });
    const trust = loadTrust(storeFor(key, { keys: [trusted(key, { notBefore: '2026-03-01T00:00:00Z' })] }));
    const result = await verifyPackDir(dir, trust);
    expect(code(result)).toBe('SONDE_ERR_PACK_KEY_NOT_VALID');
    expect(result.ok ? '' : result.reason).toContain('2026-01-15T00:00:00.000Z');
  });

  it('accepts a pack published inside the window of a key that has expired since', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key, { publishedAt: JAN });
    const trust = loadTrust(
      storeFor(key, { keys: [trusted(key, { notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-02-01T00:00:00Z' })] }),
    );
    expect(code(await verifyPackDir(dir, trust))).toBe('accepted');
  });

  it('refuses a pack published after its key expired', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key, { publishedAt: JUL });
    const trust = loadTrust(storeFor(key, { keys: [trusted(key, { notAfter: '2026-02-01T00:00:00Z' })] }));
    expect(code(await verifyPackDir(dir, trust))).toBe('SONDE_ERR_PACK_KEY_NOT_VALID');
  });

  it('refuses a publish time in the future (a backdating key cannot pre-sign either)', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key, { publishedAt: new Date(Date.now() + 24 * 3600_000) });
    expect(code(await verifyPackDir(dir, loadTrust(storeFor(key))))).toBe('SONDE_ERR_PACK_KEY_NOT_VALID');
  });
});

describe('key rotation', () => {
  it('verifies packs signed by the old key (inside its window) and by the new one, which inherits the publisher', async () => {
    const oldKey = publisher('acme');
    const newKey = publisher('someone-else');
    const rotation = createRotationStatement(oldKey, newKey, {
      issuedAt: new Date('2026-03-01T00:00:00Z'),
      notBefore: new Date('2026-03-01T00:00:00Z'),
      retireFromAt: new Date('2026-03-01T00:00:00Z'),
    });
    const trust = loadTrust(storeFor(oldKey, { rotations: [rotation] }));

    const oldPack = await copyFixture();
    await signPackDir(oldPack, oldKey, { publishedAt: JAN });
    const newPack = await copyFixture();
    await signPackDir(newPack, newKey, { publishedAt: JUL });
    expect(await verifyPackDir(oldPack, trust)).toMatchObject({ ok: true, keyId: oldKey.keyId });
    expect(await verifyPackDir(newPack, trust)).toMatchObject({ ok: true, keyId: newKey.keyId, publisher: 'acme' });

    // After retirement the old key signs nothing new.
    const lateOld = await copyFixture();
    await signPackDir(lateOld, oldKey, { publishedAt: JUL });
    expect(code(await verifyPackDir(lateOld, trust))).toBe('SONDE_ERR_PACK_KEY_NOT_VALID');
  });

  it('follows a chain of rotations listed in any order', async () => {
    const [a, b, c] = [publisher(), publisher(), publisher()];
    const ab = createRotationStatement(a, b, { issuedAt: JAN, notBefore: JAN });
    const bc = createRotationStatement(b, c, { issuedAt: JUL, notBefore: JUL });
    const trust = loadTrust(storeFor(a, { rotations: [bc, ab] }));
    expect(trust.key(c.keyId)?.rotatedFrom).toEqual([a.keyId, b.keyId]);
    const dir = await copyFixture();
    await signPackDir(dir, c);
    expect(code(await verifyPackDir(dir, trust))).toBe('accepted');
  });

  it('refuses a rotation not signed by the key it rotates from', () => {
    const [a, b, mallory] = [publisher(), publisher(), publisher()];
    const forged = { ...createRotationStatement(mallory, b), from: a.keyId };
    expect(() => loadTrust(storeFor(a, { rotations: [forged] }))).toThrow(expect.objectContaining({ code: 'SONDE_ERR_ROTATION_INVALID' }));
  });
});

describe('revocation', () => {
  const hub = publisher('hub');
  const hubKeys = [{ keyId: hub.keyId, publicKey: hub.publicKey }];

  it('refuses a revoked key, and a key rotated from it', async () => {
    const key = publisher();
    const next = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key);
    const revocations = createRevocationList({ serial: 1, keys: [{ keyId: key.keyId, reason: 'laptop stolen' }] }, hub);
    const trust = loadTrust(storeFor(key, { hubKeys, rotations: [createRotationStatement(key, next)] }), { revocations });
    const result = await verifyPackDir(dir, trust);
    expect(code(result)).toBe('SONDE_ERR_PACK_KEY_REVOKED');
    expect(result.ok ? '' : result.reason).toContain('laptop stolen');

    const rotated = await copyFixture();
    await signPackDir(rotated, next);
    expect(code(await verifyPackDir(rotated, trust))).toBe('SONDE_ERR_PACK_KEY_REVOKED');
  });

  it('refuses a revoked pack version (by npm name or pack name) and keeps other versions', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key);
    const revoke = (pack: string, versions: string) =>
      loadTrust(storeFor(key, { hubKeys }), { revocations: createRevocationList({ serial: 1, packs: [{ pack, versions }] }, hub) });
    expect(code(await verifyPackDir(dir, revoke('@sonde-test/pack-demo', '1.0.0')))).toBe('SONDE_ERR_PACK_VERSION_REVOKED');
    expect(code(await verifyPackDir(dir, revoke('demo', '<1.2.0')))).toBe('SONDE_ERR_PACK_VERSION_REVOKED');
    expect(code(await verifyPackDir(dir, revoke('demo', '1.0.1')))).toBe('accepted');
  });

  it('refuses to load a revocation list that the hub key did not sign', () => {
    const key = publisher();
    const forged = createRevocationList({ serial: 9 }, publisher('not-the-hub'));
    expect(() => loadTrust(storeFor(key, { hubKeys }), { revocations: forged })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_REVOCATIONS_INVALID' }),
    );
  });
});

describe('policy', () => {
  it('a deny rule for one version wins over a broad allow; other versions still pass', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key);
    const policy = (deny: Array<{ pack: string; versions?: string }>) =>
      loadTrust(storeFor(key, { policy: { allow: [{ publisher: 'acme', pack: '*' }], deny } }));
    expect(code(await verifyPackDir(dir, policy([{ pack: 'demo', versions: '1.0.0' }])))).toBe('SONDE_ERR_PACK_DENIED');
    expect(code(await verifyPackDir(dir, policy([{ pack: '@sonde-test/*' }])))).toBe('SONDE_ERR_PACK_DENIED');
    expect(code(await verifyPackDir(dir, policy([{ pack: 'demo', versions: '2.x' }])))).toBe('accepted');
  });

  it('a known key without an allow rule or pin is not enough', async () => {
    const key = publisher();
    const dir = await copyFixture();
    await signPackDir(dir, key);
    const trust = loadTrust(storeFor(key, { policy: { allow: [{ publisher: 'acme', pack: 'other' }] } }));
    expect(code(await verifyPackDir(dir, trust))).toBe('SONDE_ERR_PACK_NOT_ALLOWED');
  });

  it('a pin admits exactly one content for pack@version', async () => {
    const key = publisher();
    const dir = await copyFixture();
    const { integrity } = await signPackDir(dir, key);
    const pinned = (value: string) =>
      loadTrust(storeFor(key, { policy: { pins: [{ pack: 'demo', version: '1.0.0', integrity: value }] } }));
    expect(await verifyPackDir(dir, pinned(integrity))).toMatchObject({ ok: true, via: 'pin' });
    expect(code(await verifyPackDir(dir, pinned(`sha256-${Buffer.alloc(32).toString('base64')}`)))).toBe('SONDE_ERR_PACK_PIN_MISMATCH');
  });

  it('rejects a trust store whose key id does not match its public key', () => {
    const [a, b] = [publisher(), publisher()];
    expect(() => loadTrust({ type: 'sonde-trust-store', keys: [{ keyId: a.keyId, publicKey: b.publicKey }] })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_TRUST_INVALID' }),
    );
  });
});
