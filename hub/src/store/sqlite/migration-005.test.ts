import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { forgetSharedManifests } from '../manifests.js';
import { Database } from './driver.js';
import { openSqliteStore } from './index.js';

/**
 * Migration 5 on a real database written before it (hub/test/fixtures/agents-schema-4/README.md): the agent's pack
 * manifests leave its row for `pack_manifests`, and the store reads the same packs, manifests included.
 */
const FIXTURE = path.join(import.meta.dirname, '../../../test/fixtures/agents-schema-4');
const fixture = JSON.parse(readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as { agentName: string; packs: string[] };

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface StoredPack {
  name: string;
  manifest?: { name: string };
  manifestSha256?: string;
}

describe('migration 5 (pack manifests out of the agents row) on a schema-4 database', () => {
  it('moves each manifest to one pack_manifests row and the store reads the same packs', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 'sonde.db');
    copyFileSync(path.join(FIXTURE, 'sonde.db'), file);

    const before = new Database(file, { readonly: true });
    expect(before.prepare('SELECT MAX(version) FROM schema_version').pluck().get()).toBe(4);
    const oldRow = before.prepare<[string], { packs: string }>('SELECT packs FROM agents WHERE name = ?').get(fixture.agentName)!;
    before.close();
    const oldPacks = JSON.parse(oldRow.packs) as StoredPack[];
    expect(oldPacks.map((p) => p.name).sort()).toEqual(fixture.packs);
    expect(oldPacks.every((p) => p.manifest)).toBe(true);

    forgetSharedManifests();
    const store = openSqliteStore(file);
    cleanups.push(() => store.close());
    const record = await store.agents.getByName(fixture.agentName);
    // The record carries the packs as before the migration: every manifest back in place, equal to the old one.
    expect(record?.packs).toEqual(oldPacks);

    const raw = new Database(file, { readonly: true });
    cleanups.push(() => void raw.close());
    expect(raw.prepare('SELECT MAX(version) FROM schema_version').pluck().get()).toBeGreaterThanOrEqual(5);
    const row = raw.prepare<[string], { packs: string }>('SELECT packs FROM agents WHERE name = ?').get(fixture.agentName)!;
    const stored = JSON.parse(row.packs) as StoredPack[];
    expect(stored.some((p) => 'manifest' in p)).toBe(false);
    expect(stored.every((p) => /^[0-9a-f]{64}$/.test(p.manifestSha256 ?? ''))).toBe(true);
    // What a last-seen write rewrites: the row's packs went from the manifests' ~20 KB to a few hundred bytes.
    expect(row.packs.length).toBeLessThan(oldRow.packs.length / 10);
    const manifests = raw.prepare<[], { sha256: string; manifest: string }>('SELECT sha256, manifest FROM pack_manifests').all();
    expect(manifests.map((m) => m.sha256).sort()).toEqual(stored.map((p) => p.manifestSha256).sort());
    for (const pack of oldPacks)
      expect(manifests.find((m) => m.sha256 === stored.find((p) => p.name === pack.name)!.manifestSha256)!.manifest).toBe(
        JSON.stringify(pack.manifest),
      );
  });

  it('a second agent with the same packs adds no manifest rows; a fresh process resolves them from the table', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, 'sonde.db');
    copyFileSync(path.join(FIXTURE, 'sonde.db'), file);
    const store = openSqliteStore(file);
    const original = (await store.agents.getByName(fixture.agentName))!;
    const twin = await store.agents.create({
      id: '00000000-0000-4000-8000-000000000002',
      name: 'twin',
      enrolledAt: new Date().toISOString(),
      certPem: null,
      certSerial: 'twin-serial',
      certNotAfter: null,
      publicKeyPem: 'pem',
    });
    await store.agents.setPacks(twin.id, structuredClone(original.packs));
    await store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) FROM pack_manifests').pluck().get()).toBe(fixture.packs.length);
    raw.close();
    // Another process (the CLI, a restarted hub) reads both rows through the references.
    forgetSharedManifests();
    const again = openSqliteStore(file);
    cleanups.push(() => again.close());
    expect((await again.agents.getByName('twin'))!.packs).toEqual(original.packs);
  });
});
