import { afterAll, describe, expect, it } from 'vitest';
import { openHubStore } from '../../src/store/open.js';
import type { HubStore } from '../../src/store/types.js';
import { contractBackends } from './backends.js';
import { apiKey, contractAuditLog, iso, packVersion } from './fixtures.js';
import { race } from './race.js';

/**
 * The store's atomicity rules under real concurrency: each racer is its own
 * process with its own store (its own connection) on one database, and they
 * start together (race.ts). Sequential calls could not fail these.
 */
const backends = await contractBackends(import.meta.url);
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

const RACERS = 4;

describe.each(backends)('store contract, races: $name', (backend) => {
  const { holds, reason } = backend.available;
  const withStore = async (fn: (store: HubStore, location: string) => Promise<void>): Promise<void> => {
    const location = await backend.freshLocation();
    const store = await openHubStore(location);
    try {
      await fn(store, location);
    } finally {
      await store.close();
    }
  };

  it.skipIf(!holds)(`an enrollment token is consumed once by ${RACERS} processes at once ${reason}`, async () => {
    await withStore(async (store, location) => {
      await store.enrollmentTokens.create({
        id: 't1',
        hash: 'token-hash',
        prefix: 'sonde_et',
        boundName: null,
        createdAt: iso(),
        expiresAt: iso(900_000),
        usedAt: null,
        usedBy: null,
      });
      const results = await race(
        location,
        'consume',
        Array.from({ length: RACERS }, (_, i) => ({ hash: 'token-hash', usedBy: `racer-${i}` })),
      );
      expect(results.filter((r) => r.won === true)).toHaveLength(1);
      expect(results.filter((r) => r.won === false)).toHaveLength(RACERS - 1);
      const [token] = await store.enrollmentTokens.list();
      expect(token.usedAt).not.toBeNull();
    });
  });

  it.skipIf(!holds)(`tokens bound to one name, used at once, leave one agent with one live agent key ${reason}`, async () => {
    await withStore(async (store, location) => {
      // Twice: once for a name that no agent holds yet, once for a name an agent already holds (re-enrolment).
      for (const round of [1, 2]) {
        for (let i = 0; i < RACERS; i++) {
          await store.enrollmentTokens.create({
            id: `t${round}-${i}`,
            hash: `bound-${round}-${i}`,
            prefix: 'sonde_et',
            boundName: 'web-1',
            createdAt: iso(),
            expiresAt: iso(900_000),
            usedAt: null,
            usedBy: null,
          });
        }
        const results = await race(
          location,
          'enrollBound',
          Array.from({ length: RACERS }, (_, i) => ({
            name: 'web-1',
            tokenHash: `bound-${round}-${i}`,
            keyId: `k${round}-${i}`,
            keyHash: `key-hash-${round}-${i}`,
            serial: `${round}0${i}`,
          })),
        );
        const agents = (await store.agents.list()).filter((agent) => agent.name === 'web-1');
        expect(agents).toHaveLength(1);
        const live = (await store.apiKeys.list()).filter((key) => key.type === 'agent' && key.revokedAt === null);
        expect(live, JSON.stringify(results)).toHaveLength(1);
        expect(live[0].agentId).toBe(agents[0].id);
        // The live key is the one minted by the enrolment whose certificate the agent now holds.
        const winner = Number(live[0].id.split('-')[1]);
        expect(results[winner].agentId).toBe(agents[0].id);
        expect(agents[0].certSerial).toBe(`${round}0${winner}`);
      }
    });
  });

  it.skipIf(!holds)(`key rotation is guarded by the old hash: of ${RACERS} rotations from one key, one wins ${reason}`, async () => {
    await withStore(async (store, location) => {
      await store.apiKeys.create(apiKey('rot', { hash: 'old-hash' }));
      const results = await race(
        location,
        'rotate',
        Array.from({ length: RACERS }, (_, i) => ({ id: 'rot', oldHash: 'old-hash', newHash: `new-hash-${i}` })),
      );
      expect(results.filter((r) => r.won === true)).toHaveLength(1);
      const winner = results.findIndex((r) => r.won === true);
      expect((await store.apiKeys.getById('rot'))?.hash).toBe(`new-hash-${winner}`);
      expect(await store.apiKeys.findByHash('old-hash')).toBeUndefined();
    });
  });

  it.skipIf(!holds)(`revocation-list serials strictly increase across ${RACERS} processes signing at once ${reason}`, async () => {
    await withStore(async (store, location) => {
      const times = 5;
      const results = await race(
        location,
        'revoke',
        Array.from({ length: RACERS }, () => ({ times, seed: '11'.repeat(32) })),
      );
      for (const r of results) expect(r.error).toBeUndefined();
      const serials = results.flatMap((r) => r.serials as number[]);
      // One signed list per serial: every serial handed out once, none skipped.
      expect([...serials].sort((a, b) => a - b)).toEqual(Array.from({ length: RACERS * times }, (_, i) => i + 1));
      for (const r of results) {
        const own = r.serials as number[];
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
      const stored = JSON.parse((await store.settings.get('revocations.list'))!) as { serial: number; packs: unknown[] };
      expect(stored.serial).toBe(RACERS * times);
      expect(stored.packs).toHaveLength(RACERS * times);
    });
  });

  it.skipIf(!holds)(`a hub pack approval is applied once when ${RACERS} hubs approve at once ${reason}`, async () => {
    await withStore(async (store, location) => {
      await store.integrations.ensurePack('prom', '@sonde/pack-prom');
      await store.integrations.putVersion(packVersion('prom', '1.0.0'));
      const results = await race(
        location,
        'approve',
        Array.from({ length: RACERS }, (_, i) => ({ pack: 'prom', version: '1.0.0', by: `admin-${i}` })),
      );
      expect(results.filter((r) => r.won === true)).toHaveLength(1);
      const winner = results.findIndex((r) => r.won === true);
      const pack = await store.integrations.getPack('prom');
      expect(pack).toMatchObject({ approvedVersion: '1.0.0', approvedBy: `admin-${winner}` });
    });
  });

  it.skipIf(!holds)(
    `the audit head advances once per append under group commits from ${RACERS} processes; the chain verifies ${reason}`,
    async () => {
      await withStore(async (store, location) => {
        const bursts = 6;
        const size = 40;
        const results = await race(
          location,
          'audit',
          Array.from({ length: RACERS }, (_, i) => ({ bursts, size, tag: `hub-${i}` })),
        );
        for (const r of results) expect(r.error).toBeUndefined();
        const seqs = results.flatMap((r) => r.seqs as number[]).sort((a, b) => a - b);
        const total = RACERS * bursts * size;
        expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(await store.audit.count()).toBe(total);
        const verified = await contractAuditLog(store).verify({ full: true });
        expect(verified).toMatchObject({ ok: true, checked: total, lastSeq: total });
      });
    },
  );
});
