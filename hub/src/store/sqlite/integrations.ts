import type Database from 'better-sqlite3';
import type { IntegrationStore } from '../types.js';
import * as tables from '../rows/index.js';
import type { Sync } from './sync.js';

export function sqliteIntegrationStore(db: Database.Database): Sync<IntegrationStore> {
  return {
    listPacks: () => db.prepare<[], tables.PackRow>('SELECT * FROM integration_packs ORDER BY name').all().map(tables.toPack),
    getPack(name) {
      const row = db.prepare<[string], tables.PackRow>('SELECT * FROM integration_packs WHERE name = ?').get(name);
      return row && tables.toPack(row);
    },
    ensurePack(name, packageName) {
      db.prepare('INSERT INTO integration_packs (name, package_name) VALUES (?, ?) ON CONFLICT(name) DO NOTHING').run(name, packageName);
    },
    setApproved(name, previous, a) {
      // Compare-and-set on the version the caller read: two racing approvals apply once.
      return (
        db
          .prepare(
            'UPDATE integration_packs SET approved_version = ?, approved_digest = ?, approved_at = ?, approved_by = ? WHERE name = ? AND approved_version IS ?',
          )
          .run(a.version, a.digest, a.at, a.by, name, previous).changes === 1
      );
    },
    removePack(name) {
      db.prepare('DELETE FROM integration_instances WHERE pack = ?').run(name);
      db.prepare('DELETE FROM integration_pack_versions WHERE name = ?').run(name);
      db.prepare('DELETE FROM integration_pack_files WHERE name = ?').run(name);
      db.prepare('DELETE FROM integration_packs WHERE name = ?').run(name);
    },
    listVersions(name) {
      const rows =
        name === undefined
          ? db.prepare<[], tables.VersionRow>('SELECT * FROM integration_pack_versions ORDER BY name, installed_at').all()
          : db
              .prepare<[string], tables.VersionRow>('SELECT * FROM integration_pack_versions WHERE name = ? ORDER BY installed_at')
              .all(name);
      return rows.map(tables.toVersion);
    },
    getVersion(name, version) {
      const row = db
        .prepare<[string, string], tables.VersionRow>('SELECT * FROM integration_pack_versions WHERE name = ? AND version = ?')
        .get(name, version);
      return row && tables.toVersion(row);
    },
    putVersion(r) {
      db.prepare(
        `INSERT INTO integration_pack_versions (${tables.VERSION_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name, version) DO UPDATE SET package_name = excluded.package_name, integrity = excluded.integrity,
           key_id = excluded.key_id, published_at = excluded.published_at, manifest = excluded.manifest,
           permissions_digest = excluded.permissions_digest, dir = excluded.dir, installed_at = excluded.installed_at,
           installed_by = excluded.installed_by, state = excluded.state`,
      ).run(...tables.versionValues(r));
    },
    setVersionState(name, version, state) {
      db.prepare('UPDATE integration_pack_versions SET state = ? WHERE name = ? AND version = ?').run(state, name, version);
    },
    removeVersion(name, version) {
      db.prepare('DELETE FROM integration_pack_versions WHERE name = ? AND version = ?').run(name, version);
      db.prepare('DELETE FROM integration_pack_files WHERE name = ? AND version = ?').run(name, version);
    },
    putArchive(name, version, archive) {
      db.prepare(
        'INSERT INTO integration_pack_files (name, version, archive) VALUES (?, ?, ?) ON CONFLICT(name, version) DO UPDATE SET archive = excluded.archive',
      ).run(name, version, archive);
    },
    getArchive(name, version) {
      return db
        .prepare<[string, string], { archive: string }>('SELECT archive FROM integration_pack_files WHERE name = ? AND version = ?')
        .get(name, version)?.archive;
    },
    getTrust() {
      const row = db
        .prepare<[], tables.TrustRow>('SELECT document, revision, updated_at, updated_by FROM integration_trust WHERE id = 1')
        .get();
      return row && tables.toTrust(row);
    },
    putTrust(document, at, by) {
      return db
        .prepare<[string, string, string], { revision: number }>(
          `INSERT INTO integration_trust (id, document, revision, updated_at, updated_by) VALUES (1, ?, 1, ?, ?)
           ON CONFLICT(id) DO UPDATE SET document = excluded.document, revision = integration_trust.revision + 1,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by
           RETURNING revision`,
        )
        .get(document, at, by)!.revision;
    },
    getTrustSource(source) {
      return db.prepare<[string], { sha256: string }>('SELECT sha256 FROM integration_trust_sources WHERE source = ?').get(source)?.sha256;
    },
    setTrustSource(source, sha256, at) {
      db.prepare(
        'INSERT INTO integration_trust_sources (source, sha256, read_at) VALUES (?, ?, ?) ON CONFLICT(source) DO UPDATE SET sha256 = excluded.sha256, read_at = excluded.read_at',
      ).run(source, sha256, at);
    },
    listInstances(pack) {
      const rows =
        pack === undefined
          ? db.prepare<[], tables.InstanceRow>('SELECT * FROM integration_instances ORDER BY name').all()
          : db.prepare<[string], tables.InstanceRow>('SELECT * FROM integration_instances WHERE pack = ? ORDER BY name').all(pack);
      return rows.map(tables.toInstance);
    },
    getInstance(idOrName) {
      const row =
        db.prepare<[string], tables.InstanceRow>('SELECT * FROM integration_instances WHERE id = ?').get(idOrName) ??
        db.prepare<[string], tables.InstanceRow>('SELECT * FROM integration_instances WHERE name = ?').get(idOrName);
      return row && tables.toInstance(row);
    },
    createInstance(r) {
      db.prepare(`INSERT INTO integration_instances (${tables.INSTANCE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        ...tables.instanceValues(r),
      );
    },
    updateInstance(id, patch) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [key, value] of Object.entries(patch)) {
        const column = tables.INSTANCE_COLUMNS[key];
        if (!column || value === undefined) continue;
        sets.push(`${column} = ?`);
        values.push(value);
      }
      if (sets.length === 0) return;
      db.prepare(`UPDATE integration_instances SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    },
    removeInstance(id) {
      db.prepare('DELETE FROM integration_instances WHERE id = ?').run(id);
    },
  };
}
