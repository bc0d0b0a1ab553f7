import { describe, expect, it } from 'vitest';
import { SondeError, isSondeError } from './errors.js';

describe('isSondeError', () => {
  it('recognises a SondeError of this copy and of another copy of the SDK, nothing else', () => {
    expect(isSondeError(new SondeError('SONDE_ERR_TIMEOUT'))).toBe(true);
    // Another copy (a pack's own, beside a bundled agent): a different class, the same global brand.
    class OtherCopy extends Error {
      readonly code = 'SONDE_ERR_PERMISSION_DENIED';
      constructor() {
        super('denied');
        Object.defineProperty(this, Symbol.for('sonde.SondeError'), { value: true });
      }
    }
    expect(isSondeError(new OtherCopy())).toBe(true);
    expect(isSondeError(Object.assign(new Error('x'), { code: 'SONDE_ERR_TIMEOUT', name: 'SondeError' }))).toBe(false);
    expect(isSondeError({ [Symbol.for('sonde.SondeError')]: true, code: 'SONDE_ERR_TIMEOUT' })).toBe(false);
    expect(isSondeError(undefined)).toBe(false);
    // The brand does not travel: a serialised SondeError is its code and message only.
    expect(JSON.parse(JSON.stringify(new SondeError('SONDE_ERR_TIMEOUT', 'late')))).toEqual({ code: 'SONDE_ERR_TIMEOUT', message: 'late' });
  });
});
