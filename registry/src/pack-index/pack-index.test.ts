import { describe, expect, it } from 'vitest';
import { newKeyFile } from '../crypto/keys.js';
import { createPackIndex, signPackIndex, verifyPackIndex } from './index-file.js';
import { resolveUpdate } from './resolve-update.js';

const org = newKeyFile({ publisher: 'org' });
const integrity = (n: number) => `sha256-${Buffer.alloc(32, n).toString('base64')}`;

function index(serial = 1) {
  return signPackIndex(
    createPackIndex(
      {
        '@sonde/pack-docker': [
          { version: '1.2.0', integrity: integrity(2) },
          { version: '1.0.0', integrity: integrity(1) },
          { version: '2.0.0', integrity: integrity(3) },
        ],
      },
      { serial, organisation: 'Example' },
    ),
    org,
  );
}

describe('signed pack index', () => {
  it('verifies with the organisation key and refuses an added version', () => {
    const signed = index();
    expect(verifyPackIndex(signed, org.publicKey)).toMatchObject({ ok: true });
    const widened = structuredClone(signed);
    widened.packs['@sonde/pack-docker'].push({ version: '9.9.9', integrity: integrity(9) });
    expect(verifyPackIndex(widened, org.publicKey)).toMatchObject({ ok: false, code: 'SONDE_ERR_INDEX_INVALID' });
    expect(verifyPackIndex(signed, [newKeyFile()])).toMatchObject({ ok: false, code: 'SONDE_ERR_INDEX_INVALID' });
    expect(verifyPackIndex(index(1), org.publicKey, { current: 2 })).toMatchObject({ ok: false, code: 'SONDE_ERR_INDEX_STALE' });
  });

  it('resolves the newest allowed version within the range', () => {
    const signed = index();
    expect(resolveUpdate(signed, '@sonde/pack-docker', '1.0.0', '^1.0.0')).toMatchObject({
      ok: true,
      action: 'update',
      version: '1.2.0',
      integrity: integrity(2),
    });
    expect(resolveUpdate(signed, '@sonde/pack-docker', '1.2.0', '^1.0.0')).toMatchObject({ ok: true, action: 'none' });
    expect(resolveUpdate(signed, '@sonde/pack-docker', undefined, '*')).toMatchObject({ ok: true, action: 'update', version: '2.0.0' });
    expect(resolveUpdate(signed, '@sonde/pack-docker', '1.0.0', '^3.0.0')).toMatchObject({ ok: false, code: 'SONDE_ERR_INDEX_NOT_FOUND' });
    expect(resolveUpdate(signed, '@sonde/pack-redis', '1.0.0')).toMatchObject({ ok: false, code: 'SONDE_ERR_INDEX_NOT_FOUND' });
  });

  it('refuses a downgrade unless it is explicitly allowed', () => {
    const signed = index();
    expect(resolveUpdate(signed, '@sonde/pack-docker', '2.0.0', '~1.0.0')).toMatchObject({
      ok: false,
      code: 'SONDE_ERR_DOWNGRADE',
      version: '1.0.0',
    });
    // An index that dropped the installed version must not silently roll it back either.
    expect(resolveUpdate(signed, '@sonde/pack-docker', '1.5.0', '^1.0.0')).toMatchObject({ ok: false, code: 'SONDE_ERR_DOWNGRADE' });
    expect(resolveUpdate(signed, '@sonde/pack-docker', '2.0.0', '~1.0.0', { allowDowngrade: true })).toMatchObject({
      ok: true,
      action: 'downgrade',
      version: '1.0.0',
    });
  });
});
