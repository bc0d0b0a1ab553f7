import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresForTests } from '../../../test/postgres/support.js';
import { Database } from '../sqlite/driver.js';
import { forgetSharedManifests } from '../manifests.js';
import { MIGRATIONS } from './migrations.js';
import { openPostgresStore } from './index.js';

/**
 * Migration 5 on PostgreSQL: a database at schema version 4 (migrations 1-4 as released) holding the agents row of
 * the schema-4 fixture (hub/test/fixtures/agents-schema-4, written by a real hub and agent before the change),
 * opened by today's store: the manifests move to `pack_manifests` and the record reads back unchanged.
 */
const FIXTURE = path.join(import.meta.dirname, '../../../test/fixtures/agents-schema-4');
const fixture = JSON.parse(readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as { agentName: string; packs: string[] };
const server = await postgresForTests(import.meta.url);
afterAll(() => server.dropAll());

describe('migration 5 on PostgreSQL', () => {
  it.skipIf(!server.available.holds)(
    `moves the fixture agent's manifests out of its row; the store reads the same packs ${server.available.reason}`,
    async () => {
      const old = new Database(path.join(FIXTURE, 'sonde.db'), { readonly: true });
      const row = old.prepare<[string], Record<string, string | null>>('SELECT * FROM agents WHERE name = ?').get(fixture.agentName)!;
      old.close();
      const oldPacks = JSON.parse(row.packs!) as Array<{ name: string; manifest?: unknown }>;
      expect(oldPacks.every((p) => p.manifest)).toBe(true);

      const url = await server.fresh();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // The database as a hub of schema version 4 left it.
        await client.query('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        for (const m of MIGRATIONS.filter((m) => m.version <= 4)) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_version VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        }
        const columns = Object.keys(row);
        await client.query(
          `INSERT INTO agents (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          columns.map((c) => row[c]),
        );

        forgetSharedManifests();
        const store = await openPostgresStore(url);
        try {
          const record = await store.agents.getByName(fixture.agentName);
          expect(record?.packs).toEqual(oldPacks);
          expect((await store.agents.list()).map((a) => a.packs)).toEqual([oldPacks]);
        } finally {
          await store.close();
        }

        expect((await client.query('SELECT MAX(version) AS v FROM schema_version')).rows[0].v).toBeGreaterThanOrEqual(5);
        const migrated = (await client.query<{ packs: string }>('SELECT packs FROM agents WHERE name = $1', [fixture.agentName])).rows[0];
        const stored = JSON.parse(migrated.packs) as Array<{ name: string; manifest?: unknown; manifestSha256?: string }>;
        expect(stored.some((p) => 'manifest' in p)).toBe(false);
        expect(migrated.packs.length).toBeLessThan(row.packs!.length / 10);
        const manifests = (await client.query<{ sha256: string; manifest: string }>('SELECT sha256, manifest FROM pack_manifests')).rows;
        expect(manifests.map((m) => m.sha256).sort()).toEqual(stored.map((p) => p.manifestSha256).sort());
        for (const pack of oldPacks)
          expect(manifests.find((m) => m.sha256 === stored.find((p) => p.name === pack.name)!.manifestSha256)!.manifest).toBe(
            JSON.stringify(pack.manifest),
          );
      } finally {
        await client.end();
      }
    },
  );
});
