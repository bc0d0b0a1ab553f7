import type { PackManifest } from '@sonde/pack-sdk';
import type { IntegrationInstanceRecord, IntegrationPackRecord, IntegrationPackVersionRecord, IntegrationTrustRecord } from '../types.js';
import { parseJson } from './json.js';

export interface VersionRow {
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

export interface PackRow {
  name: string;
  package_name: string;
  approved_version: string | null;
  approved_digest: string | null;
  approved_at: string | null;
  approved_by: string | null;
}

export interface InstanceRow {
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

export const toVersion = (row: VersionRow): IntegrationPackVersionRecord => ({
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

export const toPack = (row: PackRow): IntegrationPackRecord => ({
  name: row.name,
  packageName: row.package_name,
  approvedVersion: row.approved_version,
  approvedDigest: row.approved_digest,
  approvedAt: row.approved_at,
  approvedBy: row.approved_by,
});

export const toInstance = (row: InstanceRow): IntegrationInstanceRecord => ({
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

/** `INSERT INTO integration_pack_versions (VERSION_COLUMNS)`, values in `versionValues` order. */
export const VERSION_COLUMNS =
  'name, version, package_name, integrity, key_id, published_at, manifest, permissions_digest, dir, installed_at, installed_by, state';
export const versionValues = (r: IntegrationPackVersionRecord): unknown[] => [
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
];

/** `INSERT INTO integration_instances (INSTANCE_INSERT_COLUMNS)`, values in `instanceValues` order. */
export const INSTANCE_INSERT_COLUMNS = 'id, name, pack, endpoint, credentials, status, last_error, last_checked_at, created_at, updated_at';
export const instanceValues = (r: IntegrationInstanceRecord): unknown[] => [
  r.id,
  r.name,
  r.pack,
  r.endpoint,
  r.credentialsSealed,
  r.status,
  r.lastError,
  r.lastCheckedAt,
  r.createdAt,
  r.updatedAt,
];

/** The columns `updateInstance` may set, by record field. */
export const INSTANCE_COLUMNS: Record<string, string> = {
  name: 'name',
  endpoint: 'endpoint',
  credentialsSealed: 'credentials',
  status: 'status',
  lastError: 'last_error',
  lastCheckedAt: 'last_checked_at',
  updatedAt: 'updated_at',
};

export interface TrustRow {
  document: string;
  revision: number;
  updated_at: string;
  updated_by: string;
}

export const toTrust = (row: TrustRow): IntegrationTrustRecord => ({
  document: row.document,
  revision: Number(row.revision),
  updatedAt: row.updated_at,
  updatedBy: row.updated_by,
});
