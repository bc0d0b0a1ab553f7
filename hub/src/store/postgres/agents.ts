import { learnManifests, missingManifests, storedPacks } from '../manifests.js';
import {
  AGENT_INSERT_COLUMNS,
  agentInsertValues,
  toAgentRecord,
  toRevokedCert,
  type AgentRow,
  type RevokedCertRow,
} from '../rows/index.js';
import type { AgentChange, AgentRecord, AgentStore, RevokedCertStore } from '../types.js';
import { oneOf, rowsOf, type Queryable, type Scope } from './db.js';

/** Rows as records, after one read of the manifests they refer to that this process has not parsed yet. */
async function recordsOf(db: Queryable, rows: AgentRow[]): Promise<AgentRecord[]> {
  const missing = [...new Set(rows.flatMap((row) => missingManifests(row.packs)))];
  if (missing.length > 0) {
    const found = await db.query<{ sha256: string; manifest: string }>(
      'SELECT sha256, manifest FROM pack_manifests WHERE sha256 = ANY($1)',
      [missing],
    );
    learnManifests(found.rows.map((r) => ({ key: r.sha256, text: r.manifest })));
  }
  return rows.map(toAgentRecord);
}

/**
 * The agents' change feed of one opened store (`AgentStore.watch`). Writes through this store report the
 * committed record (at once, or at the commit of their transaction); writes by other hubs and the CLI arrive as
 * notifications on `sonde_agents` (a trigger, migration 1) and are read and reported the same way. A lost
 * notification connection reports `resync`. Last-seen times alone make no notification (heartbeats would flood
 * it): this store reports its own, patched onto the last record it reported.
 */
export class AgentFeed {
  private readonly listeners = new Set<(change: AgentChange) => void>();
  private readonly known = new Map<string, AgentRecord>();

  constructor(private readonly db: Queryable) {}

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  watch(listener: (change: AgentChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(change: AgentChange): void {
    if (change.kind === 'put') this.known.set(change.record.id, change.record);
    else this.known.clear();
    for (const listener of this.listeners) listener(change);
  }

  /** Reads the committed records and reports them. */
  async changed(ids: Iterable<string>): Promise<void> {
    if (!this.watched) return;
    const list = [...ids];
    if (list.length === 0) return;
    const rows = await rowsOf<AgentRow>({ db: this.db, tx: undefined }, 'SELECT * FROM agents WHERE id = ANY($1)', [list]);
    for (const record of await recordsOf(this.db, rows)) this.emit({ kind: 'put', record });
  }

  /** A last-seen time: patched onto the record last reported (else read). */
  async seen(entries: Iterable<[string, string]>): Promise<void> {
    if (!this.watched) return;
    const unknown: string[] = [];
    for (const [id, at] of entries) {
      const known = this.known.get(id);
      if (known) this.emit({ kind: 'put', record: { ...known, lastSeenAt: at } });
      else unknown.push(id);
    }
    await this.changed(unknown);
  }
}

export function pgAgentStore(s: Scope, feed: AgentFeed): AgentStore {
  /** After a write: report the record now, or when the transaction commits. */
  const changed = async (id: string): Promise<void> => {
    if (s.tx) s.tx.agentIds.add(id);
    else await feed.changed([id]);
  };
  const one = async (sql: string, value: string) => {
    const row = await oneOf<AgentRow>(s, sql, [value]);
    return row && (await recordsOf(s.db, [row]))[0];
  };
  return {
    async create(record) {
      const row = await oneOf<AgentRow>(
        s,
        `INSERT INTO agents (${AGENT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        agentInsertValues(record),
      );
      await changed(record.id);
      return (await recordsOf(s.db, [row!]))[0];
    },
    async replaceCredentials(id, cert) {
      // Re-enrolment brings a removed agent back under the same id.
      await s.db.query(
        'UPDATE agents SET cert_pem = $1, cert_serial = $2, cert_not_after = $3, public_key_pem = $4, removed_at = NULL WHERE id = $5',
        [cert.certPem, cert.certSerial, cert.certNotAfter, cert.publicKeyPem, id],
      );
      await changed(id);
    },
    getById: (id) => one('SELECT * FROM agents WHERE id = $1', id),
    getByName: (name) => one('SELECT * FROM agents WHERE name = $1', name),
    getByCertSerial: (serial) => one('SELECT * FROM agents WHERE cert_serial = $1 AND removed_at IS NULL', serial),
    list: async () => recordsOf(s.db, await rowsOf<AgentRow>(s, 'SELECT * FROM agents ORDER BY name COLLATE "C"')),
    watch: (listener) => feed.watch(listener),
    async markSeen(id, at, agentVersion) {
      if (agentVersion === undefined) {
        await s.db.query('UPDATE agents SET last_seen_at = $1 WHERE id = $2', [at, id]);
        if (s.tx) s.tx.seen.set(id, at);
        else await feed.seen([[id, at]]);
      } else {
        await s.db.query('UPDATE agents SET last_seen_at = $1, agent_version = $2 WHERE id = $3', [at, agentVersion, id]);
        await changed(id);
      }
    },
    async setBaseline(id, attestation) {
      await s.db.query('UPDATE agents SET attestation_baseline = $1 WHERE id = $2', [JSON.stringify(attestation), id]);
      await changed(id);
    },
    async addDegradedReason(id, reason) {
      // One statement: two reasons added at once (two hubs) both stay.
      await s.db.query(
        `UPDATE agents SET degraded_reasons = (
           SELECT COALESCE(json_agg(r), '[]'::json)::text FROM (
             SELECT value AS r FROM json_array_elements_text(degraded_reasons::json)
             UNION ALL SELECT $1 WHERE NOT (degraded_reasons::jsonb ? $1)) reasons)
         WHERE id = $2`,
        [reason, id],
      );
      await changed(id);
    },
    async clearDegraded(id) {
      await s.db.query("UPDATE agents SET degraded_reasons = '[]' WHERE id = $1", [id]);
      await changed(id);
    },
    async setPacks(id, packs) {
      // The caller's pack objects (the live session holds the same array) now share manifests with every other agent;
      // the row refers to them (migration 5), each distinct manifest stored once, before the row that names it.
      const stored = storedPacks(packs);
      for (const { key, text } of stored.manifests)
        await s.db.query('INSERT INTO pack_manifests (sha256, manifest) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [key, text]);
      await s.db.query('UPDATE agents SET packs = $1 WHERE id = $2', [stored.json, id]);
      await changed(id);
    },
    async remove(id, at) {
      await s.db.query(
        `WITH gone AS (SELECT id, cert_serial FROM agents WHERE id = $1 AND cert_serial IS NOT NULL FOR UPDATE)
         INSERT INTO revoked_certs (serial, agent_id, revoked_at, reason) SELECT cert_serial, id, $2, 'agent removed' FROM gone
         ON CONFLICT (serial) DO NOTHING`,
        [id, at],
      );
      await s.db.query('UPDATE agents SET removed_at = $1, cert_pem = NULL, cert_serial = NULL WHERE id = $2', [at, id]);
      await changed(id);
    },
    async setPendingAttestation(id, attestation) {
      await s.db.query('UPDATE agents SET pending_attestation = $1 WHERE id = $2', [attestation ? JSON.stringify(attestation) : null, id]);
      await changed(id);
    },
    async acceptAttestation(id) {
      await s.db.query(
        "UPDATE agents SET attestation_baseline = pending_attestation, pending_attestation = NULL, degraded_reasons = '[]' WHERE id = $1",
        [id],
      );
      await changed(id);
    },
  };
}

export function pgRevokedCertStore(s: Scope): RevokedCertStore {
  return {
    async add(serial, agentId, at, reason) {
      await s.db.query(
        'INSERT INTO revoked_certs (serial, agent_id, revoked_at, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (serial) DO NOTHING',
        [serial, agentId, at, reason],
      );
    },
    isRevoked: async (serial) => (await oneOf(s, 'SELECT 1 FROM revoked_certs WHERE serial = $1', [serial])) !== undefined,
    list: async () => (await rowsOf<RevokedCertRow>(s, 'SELECT * FROM revoked_certs ORDER BY revoked_at')).map(toRevokedCert),
  };
}
