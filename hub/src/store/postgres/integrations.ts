import type { PackManifest } from '@sonde/pack-sdk';
import type { IntegrationInstanceRecord, IntegrationPackRecord, IntegrationPackVersionRecord, IntegrationStore } from '../types.js';
import { changesOf, oneOf, parseJson, rowsOf, type Scope } from './db.js';

interface VersionRow {
  name: string;
  version: string;
  package_name: string;
  integrity: string;
  key_id: string;
  published_at: string;
  manifest: string;
  permissions_digest: string;
  dir: string;
  installed_at: string;
  installed_by: string | null;
  state: IntegrationPackVersionRecord['state'];
}

interface PackRow {
  name: string;
  package_name: string;
  approved_version: string | null;
  approved_digest: string | null;
  approved_at: string | null;
  approved_by: string | null;
}

interface InstanceRow {
  id: string;
  name: string;
  pack: string;
  endpoint: string;
  credentials: string;
  status: IntegrationInstanceRecord['status'];
  last_error: string | null;
  last_checked_at: string | null;
  created_at: string;
  updated_at: string;
}

const toVersion = (row: VersionRow): IntegrationPackVersionRecord => ({
  name: row.name,
  version: row.version,
  packageName: row.package_name,
  integrity: row.integrity,
  keyId: row.key_id,
  publishedAt: row.published_at,
  manifest: parseJson<PackManifest>(row.manifest, { probes: [] } as unknown as PackManifest),
  permissionsDigest: row.permissions_digest,
  dir: row.dir,
  installedAt: row.installed_at,
  installedBy: row.installed_by,
  state: row.state,
});

const toPack = (row: PackRow): IntegrationPackRecord => ({
  name: row.name,
  packageName: row.package_name,
  approvedVersion: row.approved_version,
  approvedDigest: row.approved_digest,
  approvedAt: row.approved_at,
  approvedBy: row.approved_by,
});

const toInstance = (row: InstanceRow): IntegrationInstanceRecord => ({
  id: row.id,
  name: row.name,
  pack: row.pack,
  endpoint: row.endpoint,
  credentialsSealed: row.credentials,
  status: row.status,
  lastError: row.last_error,
  lastCheckedAt: row.last_checked_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const INSTANCE_COLUMNS: Record<string, string> = {
  name: 'name',
  endpoint: 'endpoint',
  credentialsSealed: 'credentials',
  status: 'status',
  lastError: 'last_error',
  lastCheckedAt: 'last_checked_at',
  updatedAt: 'updated_at',
};

export function pgIntegrationStore(s: Scope): IntegrationStore {
  return {
    listPacks: async () => (await rowsOf<PackRow>(s, 'SELECT * FROM integration_packs ORDER BY name COLLATE "C"')).map(toPack),
    getPack: async (name) => {
      const row = await oneOf<PackRow>(s, 'SELECT * FROM integration_packs WHERE name = $1', [name]);
      return row && toPack(row);
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
      await s.db.query('DELETE FROM integration_packs WHERE name = $1', [name]);
    },
    listVersions: async (name) =>
      (name === undefined
        ? await rowsOf<VersionRow>(s, 'SELECT * FROM integration_pack_versions ORDER BY name COLLATE "C", installed_at')
        : await rowsOf<VersionRow>(s, 'SELECT * FROM integration_pack_versions WHERE name = $1 ORDER BY installed_at', [name])
      ).map(toVersion),
    getVersion: async (name, version) => {
      const row = await oneOf<VersionRow>(s, 'SELECT * FROM integration_pack_versions WHERE name = $1 AND version = $2', [name, version]);
      return row && toVersion(row);
    },
    async putVersion(r) {
      await s.db.query(
        `INSERT INTO integration_pack_versions
           (name, version, package_name, integrity, key_id, published_at, manifest, permissions_digest, dir, installed_at, installed_by, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (name, version) DO UPDATE SET package_name = excluded.package_name, integrity = excluded.integrity,
           key_id = excluded.key_id, published_at = excluded.published_at, manifest = excluded.manifest,
           permissions_digest = excluded.permissions_digest, dir = excluded.dir, installed_at = excluded.installed_at,
           installed_by = excluded.installed_by, state = excluded.state`,
        [
          r.name,
          r.version,
          r.packageName,
          r.integrity,
          r.keyId,
          r.publishedAt,
          JSON.stringify(r.manifest),
          r.permissionsDigest,
          r.dir,
          r.installedAt,
          r.installedBy,
          r.state,
        ],
      );
    },
    async setVersionState(name, version, state) {
      await s.db.query('UPDATE integration_pack_versions SET state = $1 WHERE name = $2 AND version = $3', [state, name, version]);
    },
    async removeVersion(name, version) {
      await s.db.query('DELETE FROM integration_pack_versions WHERE name = $1 AND version = $2', [name, version]);
    },
    listInstances: async (pack) =>
      (pack === undefined
        ? await rowsOf<InstanceRow>(s, 'SELECT * FROM integration_instances ORDER BY name COLLATE "C"')
        : await rowsOf<InstanceRow>(s, 'SELECT * FROM integration_instances WHERE pack = $1 ORDER BY name COLLATE "C"', [pack])
      ).map(toInstance),
    getInstance: async (idOrName) => {
      const row =
        (await oneOf<InstanceRow>(s, 'SELECT * FROM integration_instances WHERE id = $1', [idOrName])) ??
        (await oneOf<InstanceRow>(s, 'SELECT * FROM integration_instances WHERE name = $1', [idOrName]));
      return row && toInstance(row);
    },
    async createInstance(r) {
      await s.db.query(
        `INSERT INTO integration_instances (id, name, pack, endpoint, credentials, status, last_error, last_checked_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [r.id, r.name, r.pack, r.endpoint, r.credentialsSealed, r.status, r.lastError, r.lastCheckedAt, r.createdAt, r.updatedAt],
      );
    },
    async updateInstance(id, patch) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [key, value] of Object.entries(patch)) {
        const column = INSTANCE_COLUMNS[key];
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
