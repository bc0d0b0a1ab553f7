import type { IntegrationStore } from '../types.js';
import * as tables from '../rows/index.js';
import { changesOf, oneOf, rowsOf, type Scope } from './db.js';

export function pgIntegrationStore(s: Scope): IntegrationStore {
  return {
    listPacks: async () =>
      (await rowsOf<tables.PackRow>(s, 'SELECT * FROM integration_packs ORDER BY name COLLATE "C"')).map(tables.toPack),
    getPack: async (name) => {
      const row = await oneOf<tables.PackRow>(s, 'SELECT * FROM integration_packs WHERE name = $1', [name]);
      return row && tables.toPack(row);
    },
    async ensurePack(name, packageName) {
      await s.db.query('INSERT INTO integration_packs (name, package_name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
        name,
        packageName,
      ]);
    },
    // Compare-and-set on the version the caller read: a racing UPDATE waits for this row and then finds it changed.
    setApproved: async (name, previous, a) =>
      (await changesOf(
        s,
        `UPDATE integration_packs SET approved_version = $1, approved_digest = $2, approved_at = $3, approved_by = $4
         WHERE name = $5 AND approved_version IS NOT DISTINCT FROM $6`,
        [a.version, a.digest, a.at, a.by, name, previous],
      )) === 1,
    async removePack(name) {
      await s.db.query('DELETE FROM integration_instances WHERE pack = $1', [name]);
      await s.db.query('DELETE FROM integration_pack_versions WHERE name = $1', [name]);
      await s.db.query('DELETE FROM integration_pack_files WHERE name = $1', [name]);
      await s.db.query('DELETE FROM integration_packs WHERE name = $1', [name]);
    },
    listVersions: async (name) =>
      (name === undefined
        ? await rowsOf<tables.VersionRow>(s, 'SELECT * FROM integration_pack_versions ORDER BY name COLLATE "C", installed_at')
        : await rowsOf<tables.VersionRow>(s, 'SELECT * FROM integration_pack_versions WHERE name = $1 ORDER BY installed_at', [name])
      ).map(tables.toVersion),
    getVersion: async (name, version) => {
      const row = await oneOf<tables.VersionRow>(s, 'SELECT * FROM integration_pack_versions WHERE name = $1 AND version = $2', [
        name,
        version,
      ]);
      return row && tables.toVersion(row);
    },
    async putVersion(r) {
      await s.db.query(
        `INSERT INTO integration_pack_versions (${tables.VERSION_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name, version) DO UPDATE SET package_name = excluded.package_name, integrity = excluded.integrity,
           key_id = excluded.key_id, published_at = excluded.published_at, manifest = excluded.manifest,
           permissions_digest = excluded.permissions_digest, dir = excluded.dir, installed_at = excluded.installed_at,
           installed_by = excluded.installed_by, state = excluded.state`,
        tables.versionValues(r),
      );
    },
    async setVersionState(name, version, state) {
      await s.db.query('UPDATE integration_pack_versions SET state = $1 WHERE name = $2 AND version = $3', [state, name, version]);
    },
    async removeVersion(name, version) {
      await s.db.query('DELETE FROM integration_pack_versions WHERE name = $1 AND version = $2', [name, version]);
      await s.db.query('DELETE FROM integration_pack_files WHERE name = $1 AND version = $2', [name, version]);
    },
    async putArchive(name, version, archive) {
      await s.db.query(
        'INSERT INTO integration_pack_files (name, version, archive) VALUES ($1, $2, $3) ON CONFLICT (name, version) DO UPDATE SET archive = excluded.archive',
        [name, version, archive],
      );
    },
    getArchive: async (name, version) =>
      (await oneOf<{ archive: string }>(s, 'SELECT archive FROM integration_pack_files WHERE name = $1 AND version = $2', [name, version]))
        ?.archive,
    getTrust: async () => {
      const row = await oneOf<tables.TrustRow>(s, 'SELECT document, revision, updated_at, updated_by FROM integration_trust WHERE id = 1');
      return row && tables.toTrust(row);
    },
    putTrust: async (document, at, by) =>
      Number(
        (await oneOf<{ revision: string | number }>(
          s,
          `INSERT INTO integration_trust (id, document, revision, updated_at, updated_by) VALUES (1, $1, 1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, revision = integration_trust.revision + 1,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by
             RETURNING revision`,
          [document, at, by],
        ))!.revision,
      ),
    getTrustSource: async (source) =>
      (await oneOf<{ sha256: string }>(s, 'SELECT sha256 FROM integration_trust_sources WHERE source = $1', [source]))?.sha256,
    async setTrustSource(source, sha256, at) {
      await s.db.query(
        'INSERT INTO integration_trust_sources (source, sha256, read_at) VALUES ($1, $2, $3) ON CONFLICT (source) DO UPDATE SET sha256 = excluded.sha256, read_at = excluded.read_at',
        [source, sha256, at],
      );
    },
    listInstances: async (pack) =>
      (pack === undefined
        ? await rowsOf<tables.InstanceRow>(s, 'SELECT * FROM integration_instances ORDER BY name COLLATE "C"')
        : await rowsOf<tables.InstanceRow>(s, 'SELECT * FROM integration_instances WHERE pack = $1 ORDER BY name COLLATE "C"', [pack])
      ).map(tables.toInstance),
    getInstance: async (idOrName) => {
      const row =
        (await oneOf<tables.InstanceRow>(s, 'SELECT * FROM integration_instances WHERE id = $1', [idOrName])) ??
        (await oneOf<tables.InstanceRow>(s, 'SELECT * FROM integration_instances WHERE name = $1', [idOrName]));
      return row && tables.toInstance(row);
    },
    async createInstance(r) {
      await s.db.query(
        `INSERT INTO integration_instances (${tables.INSTANCE_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        tables.instanceValues(r),
      );
    },
    async updateInstance(id, patch) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [key, value] of Object.entries(patch)) {
        const column = tables.INSTANCE_COLUMNS[key];
        if (!column || value === undefined) continue;
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      }
      if (sets.length === 0) return;
      values.push(id);
      await s.db.query(`UPDATE integration_instances SET ${sets.join(', ')} WHERE id = $${values.length}`, values);
    },
    async removeInstance(id) {
      await s.db.query('DELETE FROM integration_instances WHERE id = $1', [id]);
    },
  };
}
