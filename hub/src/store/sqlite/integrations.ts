import type Database from 'better-sqlite3';
import type { PackManifest } from '@sonde/pack-sdk';
import type { IntegrationInstanceRecord, IntegrationPackRecord, IntegrationPackVersionRecord, IntegrationStore } from '../types.js';
import type { Sync } from './sync.js';
import { parseJson } from './json.js';

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

function toVersion(row: VersionRow): IntegrationPackVersionRecord {
  return {
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
  };
}

function toPack(row: PackRow): IntegrationPackRecord {
  return {
    name: row.name,
    packageName: row.package_name,
    approvedVersion: row.approved_version,
    approvedDigest: row.approved_digest,
    approvedAt: row.approved_at,
    approvedBy: row.approved_by,
  };
}

function toInstance(row: InstanceRow): IntegrationInstanceRecord {
  return {
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
  };
}

const INSTANCE_COLUMNS: Record<string, string> = {
  name: 'name',
  endpoint: 'endpoint',
  credentialsSealed: 'credentials',
  status: 'status',
  lastError: 'last_error',
  lastCheckedAt: 'last_checked_at',
  updatedAt: 'updated_at',
};

export function sqliteIntegrationStore(db: Database.Database): Sync<IntegrationStore> {
  return {
    listPacks: () => db.prepare<[], PackRow>('SELECT * FROM integration_packs ORDER BY name').all().map(toPack),
    getPack(name) {
      const row = db.prepare<[string], PackRow>('SELECT * FROM integration_packs WHERE name = ?').get(name);
      return row && toPack(row);
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
      db.prepare('DELETE FROM integration_packs WHERE name = ?').run(name);
    },
    listVersions(name) {
      const rows =
        name === undefined
          ? db.prepare<[], VersionRow>('SELECT * FROM integration_pack_versions ORDER BY name, installed_at').all()
          : db.prepare<[string], VersionRow>('SELECT * FROM integration_pack_versions WHERE name = ? ORDER BY installed_at').all(name);
      return rows.map(toVersion);
    },
    getVersion(name, version) {
      const row = db
        .prepare<[string, string], VersionRow>('SELECT * FROM integration_pack_versions WHERE name = ? AND version = ?')
        .get(name, version);
      return row && toVersion(row);
    },
    putVersion(r) {
      db.prepare(
        `INSERT INTO integration_pack_versions
           (name, version, package_name, integrity, key_id, published_at, manifest, permissions_digest, dir, installed_at, installed_by, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name, version) DO UPDATE SET package_name = excluded.package_name, integrity = excluded.integrity,
           key_id = excluded.key_id, published_at = excluded.published_at, manifest = excluded.manifest,
           permissions_digest = excluded.permissions_digest, dir = excluded.dir, installed_at = excluded.installed_at,
           installed_by = excluded.installed_by, state = excluded.state`,
      ).run(
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
      );
    },
    setVersionState(name, version, state) {
      db.prepare('UPDATE integration_pack_versions SET state = ? WHERE name = ? AND version = ?').run(state, name, version);
    },
    removeVersion(name, version) {
      db.prepare('DELETE FROM integration_pack_versions WHERE name = ? AND version = ?').run(name, version);
    },
    listInstances(pack) {
      const rows =
        pack === undefined
          ? db.prepare<[], InstanceRow>('SELECT * FROM integration_instances ORDER BY name').all()
          : db.prepare<[string], InstanceRow>('SELECT * FROM integration_instances WHERE pack = ? ORDER BY name').all(pack);
      return rows.map(toInstance);
    },
    getInstance(idOrName) {
      const row =
        db.prepare<[string], InstanceRow>('SELECT * FROM integration_instances WHERE id = ?').get(idOrName) ??
        db.prepare<[string], InstanceRow>('SELECT * FROM integration_instances WHERE name = ?').get(idOrName);
      return row && toInstance(row);
    },
    createInstance(r) {
      db.prepare(
        `INSERT INTO integration_instances (id, name, pack, endpoint, credentials, status, last_error, last_checked_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(r.id, r.name, r.pack, r.endpoint, r.credentialsSealed, r.status, r.lastError, r.lastCheckedAt, r.createdAt, r.updatedAt);
    },
    updateInstance(id, patch) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [key, value] of Object.entries(patch)) {
        const column = INSTANCE_COLUMNS[key];
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
