import type Database from 'better-sqlite3';
import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';
import type { AgentRecord, AgentStore, RevokedCertStore } from '../types.js';
import { parseJson } from './json.js';

interface AgentRow {
  id: string;
  name: string;
  enrolled_at: string;
  cert_pem: string | null;
  cert_serial: string | null;
  cert_not_after: string | null;
  public_key_pem: string;
  removed_at: string | null;
  attestation_baseline: string | null;
  pending_attestation: string | null;
  degraded_reasons: string;
  last_seen_at: string | null;
  agent_version: string | null;
  packs: string;
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    name: row.name,
    enrolledAt: row.enrolled_at,
    certPem: row.cert_pem,
    certSerial: row.cert_serial,
    certNotAfter: row.cert_not_after,
    publicKeyPem: row.public_key_pem,
    removedAt: row.removed_at,
    attestationBaseline: parseJson<Attestation | null>(row.attestation_baseline, null),
    pendingAttestation: parseJson<Attestation | null>(row.pending_attestation, null),
    degradedReasons: parseJson<string[]>(row.degraded_reasons, []),
    lastSeenAt: row.last_seen_at,
    agentVersion: row.agent_version,
    packs: parseJson<PackStatus[]>(row.packs, []),
  };
}

export function sqliteAgentStore(db: Database.Database): AgentStore {
  const byId = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE id = ?');
  const byName = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE name = ?');
  const bySerial = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE cert_serial = ? AND removed_at IS NULL');
  const getReasons = db.prepare<[string], { degraded_reasons: string }>('SELECT degraded_reasons FROM agents WHERE id = ?');
  const setReasons = db.prepare('UPDATE agents SET degraded_reasons = ? WHERE id = ?');

  return {
    create(record) {
      db.prepare(
        `INSERT INTO agents (id, name, enrolled_at, cert_pem, cert_serial, cert_not_after, public_key_pem)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(record.id, record.name, record.enrolledAt, record.certPem, record.certSerial, record.certNotAfter, record.publicKeyPem);
      return toRecord(byId.get(record.id)!);
    },
    replaceCredentials(id, cert) {
      // Re-enrolment brings a removed agent back under the same id.
      db.prepare(
        'UPDATE agents SET cert_pem = ?, cert_serial = ?, cert_not_after = ?, public_key_pem = ?, removed_at = NULL WHERE id = ?',
      ).run(cert.certPem, cert.certSerial, cert.certNotAfter, cert.publicKeyPem, id);
    },
    getById: (id) => {
      const row = byId.get(id);
      return row && toRecord(row);
    },
    getByName: (name) => {
      const row = byName.get(name);
      return row && toRecord(row);
    },
    getByCertSerial: (serial) => {
      const row = bySerial.get(serial);
      return row && toRecord(row);
    },
    list: () => db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY name').all().map(toRecord),
    markSeen(id, at, agentVersion) {
      if (agentVersion === undefined) db.prepare('UPDATE agents SET last_seen_at = ? WHERE id = ?').run(at, id);
      else db.prepare('UPDATE agents SET last_seen_at = ?, agent_version = ? WHERE id = ?').run(at, agentVersion, id);
    },
    setBaseline(id, attestation) {
      db.prepare('UPDATE agents SET attestation_baseline = ? WHERE id = ?').run(JSON.stringify(attestation), id);
    },
    addDegradedReason(id, reason) {
      db.transaction(() => {
        const row = getReasons.get(id);
        if (!row) return;
        const reasons = parseJson<string[]>(row.degraded_reasons, []);
        if (!reasons.includes(reason)) setReasons.run(JSON.stringify([...reasons, reason]), id);
      })();
    },
    clearDegraded(id) {
      setReasons.run('[]', id);
    },
    setPacks(id, packs) {
      db.prepare('UPDATE agents SET packs = ? WHERE id = ?').run(JSON.stringify(packs), id);
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
    },
    setPendingAttestation(id, attestation) {
      db.prepare('UPDATE agents SET pending_attestation = ? WHERE id = ?').run(attestation ? JSON.stringify(attestation) : null, id);
    },
    acceptAttestation(id) {
      db.prepare(
        "UPDATE agents SET attestation_baseline = pending_attestation, pending_attestation = NULL, degraded_reasons = '[]' WHERE id = ?",
      ).run(id);
    },
  };
}

export function sqliteRevokedCertStore(db: Database.Database): RevokedCertStore {
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
    list: () =>
      db
        .prepare<[], { serial: string; agent_id: string; revoked_at: string; reason: string }>(
          'SELECT * FROM revoked_certs ORDER BY revoked_at',
        )
        .all()
        .map((r) => ({ serial: r.serial, agentId: r.agent_id, revokedAt: r.revoked_at, reason: r.reason })),
  };
}
