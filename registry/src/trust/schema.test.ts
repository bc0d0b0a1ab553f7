import { describe, expect, it } from 'vitest';
import { TrustStoreSchema, trustStoreJsonSchema } from './schema.js';

describe('trust store schema', () => {
  it('fills defaults for a minimal store and exports a JSON Schema for editors', () => {
    expect(TrustStoreSchema.parse({ type: 'sonde-trust-store' })).toEqual({
      type: 'sonde-trust-store',
      keys: [],
      rotations: [],
      hubKeys: [],
      indexKeys: [],
      policy: { allow: [], deny: [], pins: [] },
    });
    const schema = trustStoreJsonSchema();
    expect(schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['type']) });
  });

  it('rejects unknown fields and bad ranges rather than ignoring them', () => {
    expect(TrustStoreSchema.safeParse({ type: 'sonde-trust-store', trustEverything: true }).success).toBe(false);
    expect(
      TrustStoreSchema.safeParse({ type: 'sonde-trust-store', policy: { deny: [{ pack: 'x', versions: 'not a range' }] } }).success,
    ).toBe(false);
  });
});
