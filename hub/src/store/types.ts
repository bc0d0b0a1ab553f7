import type { PackManifest } from '@sonde/pack-sdk';
import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';
import type { AuditEntryInput, AuditRecord, KeyPolicy, Role } from '../services.js';

/**
 * The hub's storage seam. SQLite (better-sqlite3) is the embedded default;
 * a PostgreSQL implementation for multi-hub deployments implements the same
 * interface. Methods are synchronous because the embedded store is; a future
 * networked store wraps these behind the same calls in its own worker.
 * Secrets never appear here in the clear: keys and tokens are SHA-256 hashes,
 * sealed values are AES-256-GCM ciphertext from crypto/sealer.
 */

export interface AgentRecord {
  id: string;
  name: string;
  enrolledAt: string;
  /** PEM of the agent's current client certificate (null after removal). */
  certPem: string | null;
  certSerial: string | null;
  certNotAfter: string | null;
  /** Public key used to verify the agent's message signatures. */
  publicKeyPem: string;
  removedAt: string | null;
  attestationBaseline: Attestation | null;
  /** Reasons the agent is degraded; cleared only by an admin accepting a new baseline. */
  degradedReasons: string[];
  lastSeenAt: string | null;
  agentVersion: string | null;
  packs: PackStatus[];
  /** The attestation that made the agent degraded, waiting for an admin to accept it as the new baseline. */
  pendingAttestation: Attestation | null;
}

export interface AgentStore {
  create(
    record: Omit<
      AgentRecord,
      'degradedReasons' | 'lastSeenAt' | 'agentVersion' | 'packs' | 'attestationBaseline' | 'removedAt' | 'pendingAttestation'
    >,
  ): AgentRecord;
  /** Re-enrolment of an existing name keeps its id; replaces cert and key. */
  replaceCredentials(id: string, cert: { certPem: string; certSerial: string; certNotAfter: string; publicKeyPem: string }): void;
  getById(id: string): AgentRecord | undefined;
  getByName(name: string): AgentRecord | undefined;
  getByCertSerial(serial: string): AgentRecord | undefined;
  list(): AgentRecord[];
  /** Changes whenever a record changes other than its last-seen time (optional: lets callers cache derived views). */
  version?(): number;
  markSeen(id: string, at: string, agentVersion?: string): void;
  setBaseline(id: string, attestation: Attestation): void;
  addDegradedReason(id: string, reason: string): void;
  clearDegraded(id: string): void;
  setPacks(id: string, packs: PackStatus[]): void;
  /** Marks removed and revokes the certificate; the record (and its history) stays. */
  remove(id: string, at: string): void;
  /**
   * Gateway: when an attestation differs unexpectedly, keep it here (and add a
   * degraded reason) so an admin can accept it as the new baseline.
   */
  setPendingAttestation(id: string, attestation: Attestation | null): void;
  /** Admin: pending attestation becomes the baseline (or, without one, the next registration sets it); degraded reasons cleared. */
  acceptAttestation(id: string): void;
}

/** Serials of certificates that must never authenticate again (removed agents, replaced on re-enrolment). */
export interface RevokedCertStore {
  add(serial: string, agentId: string, at: string, reason: string): void;
  isRevoked(serial: string): boolean;
  list(): { serial: string; agentId: string; revokedAt: string; reason: string }[];
}

export type ApiKeyType = 'user' | 'agent';

export interface ApiKeyRecord {
  id: string;
  name: string;
  type: ApiKeyType;
  role: Role;
  /** SHA-256 hex of the raw key. The raw key is never stored. */
  hash: string;
  /** First characters of the raw key, for recognising it in listings. */
  prefix: string;
  policy: KeyPolicy;
  /** For agent keys: the agent this key authenticates. */
  agentId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyStore {
  create(record: ApiKeyRecord): void;
  getById(id: string): ApiKeyRecord | undefined;
  findByHash(hash: string): ApiKeyRecord | undefined;
  list(): ApiKeyRecord[];
  /** Replaces the hash (rotation); the old value stops working at once. */
  rotate(id: string, hash: string, prefix: string): void;
  revoke(id: string, at: string): void;
  touch(id: string, at: string): void;
  revokeForAgent(agentId: string, at: string): void;
}

export interface EnrollmentTokenRecord {
  id: string;
  hash: string;
  /** First 8 characters, the only part ever shown again. */
  prefix: string;
  /** When set, only an agent with this name may enrol with the token. */
  boundName: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedBy: string | null;
}

export interface EnrollmentTokenStore {
  create(record: EnrollmentTokenRecord): void;
  list(): EnrollmentTokenRecord[];
  /**
   * Atomically marks an unused, unexpired token as used and returns it; of two
   * racing calls with one token exactly one gets the record.
   */
  consume(hash: string, now: string, usedBy: string): EnrollmentTokenRecord | undefined;
  findByHash(hash: string): EnrollmentTokenRecord | undefined;
  revoke(id: string): void;
}

export interface UserRecord {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  enabled: boolean;
  createdAt: string;
}

export interface UserStore {
  upsert(record: UserRecord): void;
  getById(id: string): UserRecord | undefined;
  getByName(name: string): UserRecord | undefined;
  list(): UserRecord[];
  remove(id: string): void;
}

export interface SessionRecord {
  /** SHA-256 of the session id; the id itself lives only in the cookie. */
  hash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionStore {
  create(record: SessionRecord): void;
  get(hash: string): SessionRecord | undefined;
  extend(hash: string, expiresAt: string): void;
  remove(hash: string): void;
  removeExpired(now: string): number;
}

/** Columns of one audit row in chain order (see store/sqlite/audit.ts). */
export type AuditChainRow = [
  seq: number,
  at: string,
  action: string,
  actorKind: string,
  actorId: string | null,
  actorName: string | null,
  clientId: string | null,
  tool: string | null,
  agents: string,
  probe: string | null,
  params: string | null,
  status: string,
  resultBytes: number | null,
  durationMs: number | null,
  detail: string | null,
  hash: string,
];

export interface AuditStore {
  /** Appends one entry whose hash the caller computed over the previous hash; commits before returning. */
  append(entry: AuditEntryInput & { at: string }, chain: (prevHash: string, seq: number) => string): AuditRecord;
  last(): AuditRecord | undefined;
  query(filter: AuditFilter): AuditRecord[];
  /** Streams entries in seq order from `fromSeq` (for verification). */
  iterate(fromSeq: number): IterableIterator<AuditRecord>;
  /** Optional fast path for verification: the chained columns as stored, in `AuditChainRow` order, from `fromSeq`. */
  iterateChain?(fromSeq: number): IterableIterator<AuditChainRow>;
  count(): number;
}

export interface AuditFilter {
  agent?: string;
  tool?: string;
  keyId?: string;
  from?: string;
  to?: string;
  afterSeq?: number;
  /** Paging newest-first: entries older than this seq. */
  beforeSeq?: number;
  /** Default 'asc' (by seq). */
  order?: 'asc' | 'desc';
  limit: number;
}

/** Small key/value table for sealed singletons (CA key, audit checkpoint, key ids). */
export interface SettingsStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** One installed, verified version of an integration pack (hub/src/integrations). */
export type IntegrationVersionState = 'pending' | 'approved' | 'superseded';

export interface IntegrationPackVersionRecord {
  /** Pack name from the signed manifest (`prometheus`). */
  name: string;
  version: string;
  /** npm package name (`@sonde/pack-prometheus`). */
  packageName: string;
  /** Content integrity from the signature (`sha256-…`): what a load must find again. */
  integrity: string;
  keyId: string;
  publishedAt: string;
  /** The signed manifest, as verified at install. */
  manifest: PackManifest;
  /** permissionsDigest(manifest.permissions): what an approval refers to. */
  permissionsDigest: string;
  /** Where the verified files were written. */
  dir: string;
  installedAt: string;
  installedBy: string | null;
  state: IntegrationVersionState;
}

/** Per pack: the approved version (the one serving) and what the operator approved. */
export interface IntegrationPackRecord {
  name: string;
  packageName: string;
  approvedVersion: string | null;
  approvedDigest: string | null;
  approvedAt: string | null;
  approvedBy: string | null;
}

export type IntegrationInstanceStatus = 'untested' | 'connected' | 'error';

export interface IntegrationInstanceRecord {
  id: string;
  name: string;
  pack: string;
  endpoint: string;
  /** Sealed (crypto/sealer, AAD bound to the instance id) JSON of the credentials; never returned by the API. */
  credentialsSealed: string;
  status: IntegrationInstanceStatus;
  lastError: string | null;
  lastCheckedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IntegrationStore {
  listPacks(): IntegrationPackRecord[];
  getPack(name: string): IntegrationPackRecord | undefined;
  /** Creates the pack row if missing (nothing approved yet). */
  ensurePack(name: string, packageName: string): void;
  setApproved(name: string, approval: { version: string; digest: string; at: string; by: string }): void;
  /** Deletes the pack, its versions and its instances. */
  removePack(name: string): void;
  listVersions(name?: string): IntegrationPackVersionRecord[];
  getVersion(name: string, version: string): IntegrationPackVersionRecord | undefined;
  putVersion(record: IntegrationPackVersionRecord): void;
  setVersionState(name: string, version: string, state: IntegrationVersionState): void;
  removeVersion(name: string, version: string): void;
  listInstances(pack?: string): IntegrationInstanceRecord[];
  getInstance(idOrName: string): IntegrationInstanceRecord | undefined;
  createInstance(record: IntegrationInstanceRecord): void;
  updateInstance(
    id: string,
    patch: Partial<
      Pick<IntegrationInstanceRecord, 'name' | 'endpoint' | 'credentialsSealed' | 'status' | 'lastError' | 'lastCheckedAt' | 'updatedAt'>
    >,
  ): void;
  removeInstance(id: string): void;
}

export interface HubStore {
  agents: AgentStore;
  apiKeys: ApiKeyStore;
  enrollmentTokens: EnrollmentTokenStore;
  users: UserStore;
  sessions: SessionStore;
  audit: AuditStore;
  settings: SettingsStore;
  revokedCerts: RevokedCertStore;
  integrations: IntegrationStore;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
