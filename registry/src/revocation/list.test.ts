import { describe, expect, it } from 'vitest';
import { newKeyFile } from '../crypto/keys.js';
import { createRevocationList, extendRevocationList, verifyRevocationList } from './list.js';

const hub = newKeyFile({ publisher: 'hub' });

describe('revocation list', () => {
  it('verifies against the hub key and refuses any edit', () => {
    const list = createRevocationList(
      { serial: 3, keys: [{ keyId: '0123456789abcdef' }], packs: [{ pack: 'docker', versions: '1.2.0' }] },
      hub,
    );
    expect(verifyRevocationList(list, hub.publicKey)).toMatchObject({ ok: true, list: { serial: 3 } });
    const emptied = { ...list, packs: [] };
    expect(verifyRevocationList(emptied, hub.publicKey)).toMatchObject({ ok: false, code: 'SONDE_ERR_REVOCATIONS_INVALID' });
    expect(verifyRevocationList(list, newKeyFile().publicKey)).toMatchObject({ ok: false, code: 'SONDE_ERR_REVOCATIONS_INVALID' });
  });

  it('refuses an older serial, and a different list with the same serial, so revocations cannot be rolled back', () => {
    const older = createRevocationList({ serial: 4, keys: [] }, hub);
    const held = extendRevocationList(older, { keys: [{ keyId: '0123456789abcdef' }] }, hub);
    expect(held.serial).toBe(5);
    expect(verifyRevocationList(older, hub.publicKey, { current: held })).toMatchObject({ ok: false, code: 'SONDE_ERR_REVOCATIONS_STALE' });
    expect(verifyRevocationList(older, hub.publicKey, { current: 5 })).toMatchObject({ ok: false, code: 'SONDE_ERR_REVOCATIONS_STALE' });
    const fork = createRevocationList({ serial: 5 }, hub);
    expect(verifyRevocationList(fork, hub.publicKey, { current: held })).toMatchObject({ ok: false, code: 'SONDE_ERR_REVOCATIONS_STALE' });
    expect(verifyRevocationList(held, hub.publicKey, { current: held })).toMatchObject({ ok: true });
    const newer = extendRevocationList(held, { packs: [{ pack: 'redis', versions: '<2.0.0' }] }, hub);
    expect(verifyRevocationList(newer, hub.publicKey, { current: held })).toMatchObject({ ok: true, list: { serial: 6 } });
    expect(newer.keys).toHaveLength(1);
  });
});
