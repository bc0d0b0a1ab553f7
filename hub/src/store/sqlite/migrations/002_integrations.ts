import type { Migration } from './index.js';

/**
 * Integration packs loaded by the hub: every installed version (verified
 * facts only), which one the operator approved per pack, and the instances
 * (endpoint + sealed credentials) the packs run against.
 */
export const migration002: Migration = {
  version: 2,
  name: 'integrations',
  sql: `
    CREATE TABLE integration_pack_versions (
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      package_name TEXT NOT NULL,
      integrity TEXT NOT NULL,
      key_id TEXT NOT NULL,
      published_at TEXT NOT NULL,
      manifest TEXT NOT NULL,
      permissions_digest TEXT NOT NULL,
      dir TEXT NOT NULL,
      installed_at TEXT NOT NULL,
      installed_by TEXT,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'superseded')),
      PRIMARY KEY (name, version)
    ) STRICT;

    CREATE TABLE integration_packs (
      name TEXT PRIMARY KEY,
      package_name TEXT NOT NULL,
      approved_version TEXT,
      approved_digest TEXT,
      approved_at TEXT,
      approved_by TEXT
    ) STRICT;

    CREATE TABLE integration_instances (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      pack TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      credentials TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('untested', 'connected', 'error')) DEFAULT 'untested',
      last_error TEXT,
      last_checked_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX integration_instances_pack ON integration_instances(pack);
  `,
};
