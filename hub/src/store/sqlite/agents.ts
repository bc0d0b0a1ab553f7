import type Database from 'better-sqlite3';
import type { AgentChange, AgentRecord, AgentStore, RevokedCertStore } from '../types.js';
import { learnManifests, missingManifests, storedPacks } from '../manifests.js';
import {
  AGENT_INSERT_COLUMNS,
  agentInsertValues,
  parseJson,
  toAgentRecord,
  toRevokedCert,
  type AgentRow,
  type RevokedCertRow,
} from '../rows/index.js';
import type { Sync } from './sync.js';

interface AgentCache {
  byId: Map<string, AgentRecord>;
  byName: Map<string, AgentRecord>;
  /** Ids ordered by name, as `list()` returns the records; rebuilt lazily when names are added or change. */
  order: string[] | null;
}

/**
 * Agents, cached in memory. Every MCP call and heartbeat looks agents up, and
 * re-reading rows means re-parsing each agent's pack manifests (tens of KB
 * each): the cache holds one parsed copy per agent. Writes through this store
 * update it; writes by another connection (the headless CLI on the same file)
 * are seen through `PRAGMA data_version`, which changes when another
 * connection commits, and drop it. Inside a transaction (which may still roll
 * back) reads go to the database and writes drop the cache.
 *
 * Records handed out are shared: callers must not mutate them (every write
 * replaces the cached record instead of changing it).
 *
 * The change feed (`watch`): a write outside a transaction reports its record
 * at once; inside one, the changed ids wait for `settle(true)` (commit) or
 * turn into a `resync` on `settle(false)` (rollback). `pollForeignChanges`
 * reports a `resync` when another connection committed.
 */
export interface SqliteAgentStore extends Sync<AgentStore> {
  /** Called by the connection after its transaction ends. */
  settle(committed: boolean): void;
  /** Checks `PRAGMA data_version`; a `resync` for the listeners if another connection wrote. */
  pollForeignChanges(): void;
}

export function sqliteAgentStore(db: Database.Database): SqliteAgentStore {
  const byId = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE id = ?');
  const byName = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE name = ?');
  const bySerial = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE cert_serial = ? AND removed_at IS NULL');
  const all = db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY name');
  const getReasons = db.prepare<[string], { degraded_reasons: string }>('SELECT degraded_reasons FROM agents WHERE id = ?');
  const setReasons = db.prepare('UPDATE agents SET degraded_reasons = ? WHERE id = ?');
  const seen = db.prepare('UPDATE agents SET last_seen_at = ? WHERE id = ?');
  const seenWithVersion = db.prepare('UPDATE agents SET last_seen_at = ?, agent_version = ? WHERE id = ?');
  const writePacks = db.prepare('UPDATE agents SET packs = ? WHERE id = ?');
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const manifestByKey = db.prepare<[string], string>('SELECT manifest FROM pack_manifests WHERE sha256 = ?').pluck();
  const storeManifest = db.prepare('INSERT OR IGNORE INTO pack_manifests (sha256, manifest) VALUES (?, ?)');

  /** A row as a record, after reading the manifests it refers to that this process has not parsed yet (once each). */
  const toRecord = (row: AgentRow): AgentRecord => {
    const missing = missingManifests(row.packs);
    if (missing.length > 0) {
      learnManifests(
        missing.flatMap((key) => {
          const text = manifestByKey.get(key);
          return text === undefined ? [] : [{ key, text }];
        }),
      );
    }
    return toAgentRecord(row);
  };

  let cache: AgentCache | null = null;
  let seenDataVersion = dataVersion.get()!;
  const listeners = new Set<(change: AgentChange) => void>();
  /** Ids written inside the open transaction, reported when it commits. */
  const unsettled = new Set<string>();

  function emit(change: AgentChange): void {
    for (const listener of listeners) listener(change);
  }

  function foreignWrite(): boolean {
    const now = dataVersion.get()!;
    if (now === seenDataVersion) return false;
    seenDataVersion = now;
    cache = null;
    if (listeners.size > 0) emit({ kind: 'resync' });
    return true;
  }

  /** The cache, loaded if needed; null inside a transaction (read the database then). */
  function current(): AgentCache | null {
    if (db.inTransaction) return null;
    foreignWrite();
    if (!cache) {
      const records = all.all().map(toRecord);
      cache = { byId: new Map(), byName: new Map(), order: records.map((record) => record.id) };
      for (const record of records) put(cache, record);
    }
    return cache;
  }

  function put(target: AgentCache, record: AgentRecord): void {
    const old = target.byId.get(record.id);
    if (old && target.byName.get(old.name) === old) target.byName.delete(old.name);
    target.byId.set(record.id, record);
    target.byName.set(record.name, record);
  }

  /**
   * After a write by this connection: replace the cached record (by re-reading it, or with `change`). `bump` false
   * marks a last-seen time alone, which the cache takes even inside a transaction: the gateway writes a second's
   * worth of them in one, and dropping the whole cache for each would re-read the fleet. A rollback of such a
   * transaction leaves a last-seen time in the cache that the database does not have, and nothing else.
   */
  function changed(id: string, change?: (record: AgentRecord) => AgentRecord, bump = true): void {
    if (db.inTransaction && listeners.size > 0) unsettled.add(id);
    const old = cache?.byId.get(id);
    if (db.inTransaction && (bump || !change || !old)) {
      cache = null;
      return;
    }
    let next: AgentRecord | undefined;
    if (old && change) next = change(old);
    else if (cache || (!db.inTransaction && listeners.size > 0)) {
      const row = byId.get(id);
      next = row && toRecord(row);
    }
    if (!next) return;
    if (cache) {
      if (!old || old.name !== next.name) cache.order = null;
      put(cache, next);
    }
    if (!db.inTransaction && listeners.size > 0) emit({ kind: 'put', record: next });
  }

  return {
    create(record) {
      db.prepare(`INSERT INTO agents (${AGENT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(...agentInsertValues(record));
      changed(record.id);
      return toRecord(byId.get(record.id)!);
    },
    replaceCredentials(id, cert) {
      // Re-enrolment brings a removed agent back under the same id.
      db.prepare(
        'UPDATE agents SET cert_pem = ?, cert_serial = ?, cert_not_after = ?, public_key_pem = ?, removed_at = NULL WHERE id = ?',
      ).run(cert.certPem, cert.certSerial, cert.certNotAfter, cert.publicKeyPem, id);
      changed(id);
    },
    getById: (id) => {
      const cached = current();
      if (cached) return cached.byId.get(id);
      const row = byId.get(id);
      return row && toRecord(row);
    },
    getByName: (name) => {
      const cached = current();
      if (cached) return cached.byName.get(name);
      const row = byName.get(name);
      return row && toRecord(row);
    },
    getByCertSerial: (serial) => {
      const row = bySerial.get(serial);
      return row && toRecord(row);
    },
    list: () => {
      const cached = current();
      if (!cached) return all.all().map(toRecord);
      const { byId } = cached;
      cached.order ??= [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((record) => record.id);
      return cached.order.map((id) => byId.get(id)!);
    },
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    settle(committed) {
      if (listeners.size === 0 || unsettled.size === 0) return unsettled.clear();
      // Our own commit moved data_version for other connections only; a rollback undid writes the cache may hold.
      if (!committed) {
        unsettled.clear();
        cache = null;
        return emit({ kind: 'resync' });
      }
      const ids = [...unsettled];
      unsettled.clear();
      for (const id of ids) {
        const record = current()?.byId.get(id) ?? (byId.get(id) && toRecord(byId.get(id)!));
        if (record) emit({ kind: 'put', record });
      }
    },
    pollForeignChanges: () => void (db.inTransaction || foreignWrite()),
    markSeen(id, at, agentVersion) {
      if (agentVersion === undefined) {
        seen.run(at, id);
        changed(id, (record) => ({ ...record, lastSeenAt: at }), false);
      } else {
        seenWithVersion.run(at, agentVersion, id);
        changed(id, (record) => ({ ...record, lastSeenAt: at, agentVersion }));
      }
    },
    setBaseline(id, attestation) {
      db.prepare('UPDATE agents SET attestation_baseline = ? WHERE id = ?').run(JSON.stringify(attestation), id);
      changed(id);
    },
    addDegradedReason(id, reason) {
      db.transaction(() => {
        const row = getReasons.get(id);
        if (!row) return;
        const reasons = parseJson<string[]>(row.degraded_reasons, []);
        if (!reasons.includes(reason)) setReasons.run(JSON.stringify([...reasons, reason]), id);
      })();
      changed(id);
    },
    clearDegraded(id) {
      setReasons.run('[]', id);
      changed(id);
    },
    setPacks(id, packs) {
      // The caller's pack objects (the live session holds the same array) now share manifests with every other agent.
      // The row refers to them (migration 5): each distinct manifest stored once, before the row that names it.
      const stored = storedPacks(packs);
      db.transaction(() => {
        for (const { key, text } of stored.manifests) storeManifest.run(key, text);
        writePacks.run(stored.json, id);
      })();
      changed(id, (record) => ({ ...record, packs }));
    },
    remove(id, at) {
      db.transaction(() => {
        const row = byId.get(id);
        if (!row) return;
        if (row.cert_serial) {
          db.prepare('INSERT OR IGNORE INTO revoked_certs (serial, agent_id, revoked_at, reason) VALUES (?, ?, ?, ?)').run(
            row.cert_serial,
            id,
            at,
            'agent removed',
          );
        }
        db.prepare('UPDATE agents SET removed_at = ?, cert_pem = NULL, cert_serial = NULL WHERE id = ?').run(at, id);
      })();
      changed(id);
    },
    setPendingAttestation(id, attestation) {
      db.prepare('UPDATE agents SET pending_attestation = ? WHERE id = ?').run(attestation ? JSON.stringify(attestation) : null, id);
      changed(id);
    },
    acceptAttestation(id) {
      db.prepare(
        "UPDATE agents SET attestation_baseline = pending_attestation, pending_attestation = NULL, degraded_reasons = '[]' WHERE id = ?",
      ).run(id);
      changed(id);
    },
  };
}

export function sqliteRevokedCertStore(db: Database.Database): Sync<RevokedCertStore> {
  const isRevoked = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM revoked_certs WHERE serial = ?');
  return {
    add(serial, agentId, at, reason) {
      db.prepare('INSERT OR IGNORE INTO revoked_certs (serial, agent_id, revoked_at, reason) VALUES (?, ?, ?, ?)').run(
        serial,
        agentId,
        at,
        reason,
      );
    },
    isRevoked: (serial) => isRevoked.get(serial) !== undefined,
    list: () => db.prepare<[], RevokedCertRow>('SELECT * FROM revoked_certs ORDER BY revoked_at').all().map(toRevokedCert),
  };
}
