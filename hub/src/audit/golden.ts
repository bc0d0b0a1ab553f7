import type { AuditEntryInput } from '../services.js';

/**
 * The audit chain's golden vector: a fixed entry, key and time with the exact
 * text and hashes every store must reproduce (hub/src/audit/chain-text.test.ts
 * pins them; each store's tests check that the text it rebuilds from stored
 * columns is the same bytes). Changing any of these strings breaks every
 * existing chain: add a new chain version instead.
 */
export const GOLDEN = {
  key: Buffer.from('sonde-audit-golden-vector-key-01', 'utf8'),
  at: '2026-12-07T05:00:00.000Z',
  entry: {
    action: 'mcp.tool_call',
    actor: { kind: 'api_key', id: 'k-1', name: 'kéy "1"\n' },
    clientId: 'cursor',
    tool: 'probe',
    agents: ['web-1', 'db-2'],
    probe: 'system.disk.usage',
    params: { path: '/data', list: [1, 2.5, null, 'x\ty'], a: true },
    status: 'ok',
    resultBytes: 1834,
    durationMs: 12,
    detail: 'back\\slash \u2028',
  } satisfies AuditEntryInput,
  text:
    '{"action":"mcp.tool_call","actor":{"id":"k-1","kind":"api_key","name":"kéy \\"1\\"\\n"},"agents":["web-1","db-2"],' +
    '"at":"2026-12-07T05:00:00.000Z","clientId":"cursor","detail":"back\\\\slash \u2028","durationMs":12,' +
    '"params":{"a":true,"list":[1,2.5,null,"x\\ty"],"path":"/data"},"probe":"system.disk.usage","resultBytes":1834,' +
    '"seq":1,"status":"ok","tool":"probe"}',
  hash: '1dac22f225471e04703bc13c3addcdc1a94609f46ec1cab137299a3cd073d021',
  /** The next entry, chained on `hash`. */
  second: {
    at: '2026-12-07T05:00:01.000Z',
    entry: { action: 'login', actor: { kind: 'user', id: null, name: null }, status: 'denied' } satisfies AuditEntryInput,
    hash: '6e75825d2c24a297c3f45d739c642d34dea7d1b9d9542a6866e95898263c4c58',
  },
};
