import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentChange, AgentRecord, HubStore } from '../store/types.js';
import { AgentDirectory } from './directory.js';

/** Just what the directory uses of a store: `list` and a change feed the test drives by hand. */
function fakeStore(initial: AgentRecord[]) {
  const listeners = new Set<(change: AgentChange) => void>();
  const rows = new Map(initial.map((record) => [record.id, record]));
  const store = {
    agents: {
      list: () => Promise.resolve([...rows.values()]),
      watch: (listener: (change: AgentChange) => void) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
  } as unknown as Pick<HubStore, 'agents'>;
  const put = (record: AgentRecord): void => {
    rows.set(record.id, record);
    for (const listener of listeners) listener({ kind: 'put', record });
  };
  return { store, rows, put };
}

const agent = (id: string, name: string): AgentRecord => ({
  id,
  name,
  enrolledAt: '2026-12-01T00:00:00.000Z',
  certPem: null,
  certSerial: null,
  certNotAfter: null,
  publicKeyPem: 'pem',
  removedAt: null,
  attestationBaseline: null,
  degradedReasons: [],
  lastSeenAt: null,
  agentVersion: null,
  packs: [],
  pendingAttestation: null,
});

/** What `list()` must be: every current record, by name (code-unit order), the very objects the feed delivered. */
const expected = (rows: Map<string, AgentRecord>): AgentRecord[] =>
  [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

type Step =
  | { kind: 'seen'; agent: number; at: number }
  | { kind: 'rename'; agent: number; name: string }
  | { kind: 'add'; name: string }
  | { kind: 'list' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('seen' as const), agent: fc.nat(), at: fc.nat({ max: 1e9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), agent: fc.nat(), name: fc.string({ maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), name: fc.string({ maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'list' as const }) },
);

describe('AgentDirectory', () => {
  it('keeps list() in name order with the latest record of each agent, whatever mix of last-seen writes, renames and new agents', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.array(step, { maxLength: 60 }),
        async (names, steps) => {
          const { store, rows, put } = fakeStore(names.map((name, i) => agent(`id-${i}`, name)));
          const directory = await AgentDirectory.open(store);
          try {
            expect(directory.list()).toEqual(expected(rows));
            let next = names.length;
            for (const s of steps) {
              const ids = [...rows.keys()];
              const id = 'agent' in s ? ids[s.agent % ids.length] : undefined;
              if (s.kind === 'seen') put({ ...rows.get(id!)!, lastSeenAt: new Date(s.at).toISOString() });
              else if (s.kind === 'rename') put({ ...rows.get(id!)!, name: s.name });
              else if (s.kind === 'add') put(agent(`id-${next++}`, s.name));
              else {
                const list = directory.list();
                expect(list).toHaveLength(rows.size);
                // The same objects, not just equal ones: readers compare records by identity to skip rebuilding views.
                expect(list.every((record) => rows.get(record.id) === record)).toBe(true);
                expect(list.map((record) => record.id)).toEqual(expected(rows).map((record) => record.id));
              }
            }
            expect(directory.list().every((record) => rows.get(record.id) === record)).toBe(true);
            expect(directory.list().map((record) => record.name)).toEqual(expected(rows).map((record) => record.name));
          } finally {
            directory.close();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replaces a record in place on a last-seen write (same list, same positions) and does not move version()', async () => {
    const { store, put, rows } = fakeStore(['c', 'a', 'b'].map((name) => agent(`id-${name}`, name)));
    const directory = await AgentDirectory.open(store);
    const before = directory.list();
    const version = directory.version();
    put({ ...rows.get('id-b')!, lastSeenAt: '2026-12-07T20:00:00.000Z' });
    const after = directory.list();
    expect(after).toBe(before);
    expect(after.map((record) => [record.name, record.lastSeenAt])).toEqual([
      ['a', null],
      ['b', '2026-12-07T20:00:00.000Z'],
      ['c', null],
    ]);
    expect(directory.version()).toBe(version);
    put({ ...rows.get('id-b')!, degradedReasons: ['attestation changed'] });
    expect(directory.version()).toBe(version + 1);
    directory.close();
  });
});
