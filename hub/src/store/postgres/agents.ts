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

/** How long notifications of other writers gather before one read reports them (a registration writes its row ~3 times). */
export const NOTIFY_GATHER_MS = 10;

/**
 * The agents' change feed of one opened store (`AgentStore.watch`). Writes through this store report the
 * committed record (at once, from the write's own `RETURNING` row, or at the commit of their transaction); writes by
 * other hubs and the CLI arrive as notifications on `sonde_agents` (a trigger, migration 1), gathered for
 * `NOTIFY_GATHER_MS` and read in one statement, one read at a time so a later state is never reported before an
 * earlier one. The store's own notifications are skipped (`index.ts` knows its pool's server processes): its writes
 * were reported already. A lost notification connection reports `resync`. Last-seen times alone make no
 * notification (heartbeats would flood it): this store reports its own, patched onto the last record it reported.
 */
export class AgentFeed {
  private readonly listeners = new Set<(change: AgentChange) => void>();
  private readonly known = new Map<string, AgentRecord>();
  private notified = new Set<string>();
  private gathering: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

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
    await this.report(rows);
  }

  /** Reports rows as committed (a write's `RETURNING *` outside a transaction). */
  async report(rows: AgentRow[]): Promise<void> {
    if (!this.watched || rows.length === 0) return;
    for (const record of await recordsOf(this.db, rows)) this.emit({ kind: 'put', record });
  }

  /** Another writer changed this agent (a notification): read with the others that arrive meanwhile. */
  notify(id: string): void {
    if (!this.watched) return;
    this.notified.add(id);
    this.gathering ??= setTimeout(() => void this.readNotified(), NOTIFY_GATHER_MS);
  }

  /** Stops a pending read (the store is closing). */
  stop(): void {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    this.notified.clear();
  }

  private async readNotified(): Promise<void> {
    this.gathering = undefined;
    // One read at a time: notifications that arrive during it are read after it, so the newer state is reported last.
    while (this.reading) await this.reading;
    if (this.notified.size === 0) return;
    const ids = this.notified;
    this.notified = new Set();
    this.reading = this.changed(ids)
      .catch(() => this.emit({ kind: 'resync' }))
      .finally(() => (this.reading = undefined));
    await this.reading;
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
  /**
   * One statement that changes agent `id`: outside a transaction the changed row comes back with it (`RETURNING *`)
   * and is reported at once, one round trip; in a transaction it is read and reported at the commit.
   */
  const write = async (sql: string, values: unknown[], id: string): Promise<void> => {
    if (s.tx) {
      await s.db.query(sql, values);
      s.tx.agentIds.add(id);
      return;
    }
    const { rows } = await s.db.query<AgentRow>(`${sql} RETURNING *`, values);
    await feed.report(rows);
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
      if (s.tx) s.tx.agentIds.add(record.id);
      else await feed.report([row!]);
      return (await recordsOf(s.db, [row!]))[0];
    },
    async replaceCredentials(id, cert) {
      // Re-enrolment brings a removed agent back under the same id.
      await write(
        'UPDATE agents SET cert_pem = $1, cert_serial = $2, cert_not_after = $3, public_key_pem = $4, removed_at = NULL WHERE id = $5',
        [cert.certPem, cert.certSerial, cert.certNotAfter, cert.publicKeyPem, id],
        id,
      );
    },
    getById: (id) => one('SELECT * FROM agents WHERE id = $1', id),
    getByName: (name) => one('SELECT * FROM agents WHERE name = $1', name),
    getByCertSerial: (serial) => one('SELECT * FROM agents WHERE cert_serial = $1 AND removed_at IS NULL', serial),
    list: async () => recordsOf(s.db, await rowsOf<AgentRow>(s, 'SELECT * FROM agents ORDER BY name COLLATE "C"')),
    watch: (listener) => feed.watch(listener),
    feedCoversOtherWriters: true,
    async markSeen(id, at, agentVersion) {
      if (agentVersion === undefined) {
        await s.db.query('UPDATE agents SET last_seen_at = $1 WHERE id = $2', [at, id]);
        if (s.tx) s.tx.seen.set(id, at);
        else await feed.seen([[id, at]]);
      } else {
        await write('UPDATE agents SET last_seen_at = $1, agent_version = $2 WHERE id = $3', [at, agentVersion, id], id);
      }
    },
    async setBaseline(id, attestation) {
      await write('UPDATE agents SET attestation_baseline = $1 WHERE id = $2', [JSON.stringify(attestation), id], id);
    },
    async addDegradedReason(id, reason) {
      // One statement: two reasons added at once (two hubs) both stay.
      await write(
        `UPDATE agents SET degraded_reasons = (
           SELECT COALESCE(json_agg(r), '[]'::json)::text FROM (
             SELECT value AS r FROM json_array_elements_text(degraded_reasons::json)
             UNION ALL SELECT $1 WHERE NOT (degraded_reasons::jsonb ? $1)) reasons)
         WHERE id = $2`,
        [reason, id],
        id,
      );
    },
    async clearDegraded(id) {
      await write("UPDATE agents SET degraded_reasons = '[]' WHERE id = $1", [id], id);
    },
    async setPacks(id, packs) {
      // The caller's pack objects (the live session holds the same array) now share manifests with every other agent;
      // the row refers to them (migration 5), each distinct manifest stored once. One statement: the manifests the row
      // names are inserted with it (in key order, so two hubs inserting the same ones never wait on each other in turn).
      const stored = storedPacks(packs);
      const manifests = [...stored.manifests].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (manifests.length === 0) {
        await write('UPDATE agents SET packs = $1 WHERE id = $2', [stored.json, id], id);
        return;
      }
      await write(
        `WITH stored AS (
           INSERT INTO pack_manifests (sha256, manifest) SELECT * FROM unnest($3::text[], $4::text[])
           ON CONFLICT (sha256) DO NOTHING)
         UPDATE agents SET packs = $1 WHERE id = $2`,
        [stored.json, id, manifests.map((m) => m.key), manifests.map((m) => m.text)],
        id,
      );
    },
    async remove(id, at) {
      await s.db.query(
        `WITH gone AS (SELECT id, cert_serial FROM agents WHERE id = $1 AND cert_serial IS NOT NULL FOR UPDATE)
         INSERT INTO revoked_certs (serial, agent_id, revoked_at, reason) SELECT cert_serial, id, $2, 'agent removed' FROM gone
         ON CONFLICT (serial) DO NOTHING`,
        [id, at],
      );
      await write('UPDATE agents SET removed_at = $1, cert_pem = NULL, cert_serial = NULL WHERE id = $2', [at, id], id);
    },
    async setPendingAttestation(id, attestation) {
      await write('UPDATE agents SET pending_attestation = $1 WHERE id = $2', [attestation ? JSON.stringify(attestation) : null, id], id);
    },
    async acceptAttestation(id) {
      await write(
        "UPDATE agents SET attestation_baseline = pending_attestation, pending_attestation = NULL, degraded_reasons = '[]' WHERE id = $1",
        [id],
        id,
      );
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
