import type { Migration } from './index.js';

/** The first schema: every table the hub core needs. */
export const migration001: Migration = {
  version: 1,
  name: 'init',
  sql: `
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE agents (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      enrolled_at TEXT NOT NULL,
      cert_pem TEXT,
      cert_serial TEXT UNIQUE,
      cert_not_after TEXT,
      public_key_pem TEXT NOT NULL,
      removed_at TEXT,
      attestation_baseline TEXT,
      pending_attestation TEXT,
      degraded_reasons TEXT NOT NULL DEFAULT '[]',
      last_seen_at TEXT,
      agent_version TEXT,
      packs TEXT NOT NULL DEFAULT '[]'
    ) STRICT;

    CREATE TABLE revoked_certs (
      serial TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL REFERENCES agents(id),
      revoked_at TEXT NOT NULL,
      reason TEXT NOT NULL
    ) STRICT;

    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('user', 'agent')),
      role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
      hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      policy TEXT NOT NULL,
      agent_id TEXT REFERENCES agents(id),
      created_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT
    ) STRICT;
    CREATE INDEX api_keys_agent ON api_keys(agent_id);

    CREATE TABLE enrollment_tokens (
      id TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      bound_name TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT,
      used_by TEXT
    ) STRICT;

    CREATE TABLE users (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      email TEXT,
      role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
      enabled INTEGER NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE sessions (
      hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE audit_log (
      seq INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      action TEXT NOT NULL,
      actor_kind TEXT NOT NULL,
      actor_id TEXT,
      actor_name TEXT,
      client_id TEXT,
      tool TEXT,
      agents TEXT NOT NULL,
      probe TEXT,
      params TEXT,
      status TEXT NOT NULL,
      result_bytes INTEGER,
      duration_ms REAL,
      detail TEXT,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_at ON audit_log(at);
    CREATE INDEX audit_tool ON audit_log(tool);
    CREATE INDEX audit_actor ON audit_log(actor_id);
  `,
};
