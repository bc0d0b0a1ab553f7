import type { PackManifest } from '@sonde/pack-sdk';
import type { Attestation, PackStatus } from '@sonde/pack-sdk/protocol';
import type { AuthorizedGroup, LoginStateStore, UserOrigin } from '../identity/types.js';

export type { LoginStateRecord, LoginStateStore } from '../identity/types.js';
import type { AuditEntryInput, AuditRecord, KeyPolicy, Role } from '../model.js';

/**
 * The hub's storage seam. Every method returns a Promise and iteration is an
 * AsyncIterable, so a networked database can implement it as well as the
 * embedded SQLite store (hub/src/store/sqlite/, the only place that knows SQL).
 * `transaction(fn)` hands `fn` a store scoped to that transaction: calls on it
 * run inside the transaction, calls on the outer store wait until it ends.
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
  ): Promise<AgentRecord>;
  /** Re-enrolment of an existing name keeps its id; replaces cert and key. */
  replaceCredentials(id: string, cert: { certPem: string; certSerial: string; certNotAfter: string; publicKeyPem: string }): Promise<void>;
  getById(id: string): Promise<AgentRecord | undefined>;
  getByName(name: string): Promise<AgentRecord | undefined>;
  getByCertSerial(serial: string): Promise<AgentRecord | undefined>;
  list(): Promise<AgentRecord[]>;
  markSeen(id: string, at: string, agentVersion?: string): Promise<void>;
  setBaseline(id: string, attestation: Attestation): Promise<void>;
  addDegradedReason(id: string, reason: string): Promise<void>;
  clearDegraded(id: string): Promise<void>;
  setPacks(id: string, packs: PackStatus[]): Promise<void>;
  /** Marks removed and revokes the certificate; the record (and its history) stays. */
  remove(id: string, at: string): Promise<void>;
  /**
   * Gateway: when an attestation differs unexpectedly, keep it here (and add a
   * degraded reason) so an admin can accept it as the new baseline.
   */
  setPendingAttestation(id: string, attestation: Attestation | null): Promise<void>;
  /** Admin: pending attestation becomes the baseline (or, without one, the next registration sets it); degraded reasons cleared. */
  acceptAttestation(id: string): Promise<void>;
  /**
   * The change feed the fleet directory (hub/src/fleet/) follows: `put` with the record as committed after each write
   * through this store, `resync` when records may have changed elsewhere (another process, a rolled-back transaction).
   * Listeners run synchronously, before the write's Promise resolves.
   */
  watch(listener: (change: AgentChange) => void): () => void;
  /**
   * True when `watch` also reports, record by record, what other processes on the database write (PostgreSQL:
   * LISTEN/NOTIFY), so hubs sharing the database need not announce their writes to each other (hub/src/cluster).
   */
  readonly feedCoversOtherWriters?: boolean;
}

export type AgentChange = { kind: 'put'; record: AgentRecord } | { kind: 'resync' };

/** Serials of certificates that must never authenticate again (removed agents, replaced on re-enrolment). */
export interface RevokedCertStore {
  add(serial: string, agentId: string, at: string, reason: string): Promise<void>;
  isRevoked(serial: string): Promise<boolean>;
  list(): Promise<{ serial: string; agentId: string; revokedAt: string; reason: string }[]>;
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
  /** A user's own key ("my keys"): works only while that user may sign in; deleted with the user. */
  ownerUserId?: string | null;
}

export interface ApiKeyStore {
  create(record: ApiKeyRecord): Promise<void>;
  getById(id: string): Promise<ApiKeyRecord | undefined>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /**
   * Replaces the hash (rotation) if the key still has `oldHash` and is not revoked; the old value stops working at once.
   * False when it changed meanwhile (another rotation won, or a revocation): of two racing rotations one wins.
   */
  rotate(id: string, oldHash: string, hash: string, prefix: string): Promise<boolean>;
  revoke(id: string, at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
  revokeForAgent(agentId: string, at: string): Promise<void>;
  /** Keys a user created for themselves. */
  listByOwner(userId: string): Promise<ApiKeyRecord[]>;
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
  create(record: EnrollmentTokenRecord): Promise<void>;
  list(): Promise<EnrollmentTokenRecord[]>;
  /**
   * Atomically marks an unused, unexpired token as used and returns it; of two
   * racing calls with one token exactly one gets the record.
   */
  consume(hash: string, now: string, usedBy: string): Promise<EnrollmentTokenRecord | undefined>;
  findByHash(hash: string): Promise<EnrollmentTokenRecord | undefined>;
  revoke(id: string): Promise<void>;
}

export interface UserRecord {
  id: string;
  name: string;
  /** Lower-case. For single sign-on it only finds a record an admin added before the user's first sign-in. */
  email: string | null;
  /** The individual role an admin gave (origin `admin`); for a user from groups, what they held when created. */
  role: Role;
  enabled: boolean;
  createdAt: string;
  /** The provider's stable subject (Entra `entra:<tid>:<oid>`, else `<iss>#<sub>`), set at the first sign-in. */
  subject: string | null;
  /** Display name from the provider at the last sign-in. */
  displayName: string | null;
  /** `admin`: added by an admin (an individual entry); `group`: created at sign-in because a group is authorized. */
  origin: UserOrigin;
  /** Groups (ids or names) the provider reported at the last sign-in; with authorized groups they decide the role per request. */
  groups: string[];
  lastLoginAt: string | null;
}

export interface UserStore {
  upsert(record: UserRecord): Promise<void>;
  getById(id: string): Promise<UserRecord | undefined>;
  getByName(name: string): Promise<UserRecord | undefined>;
  getBySubject(subject: string): Promise<UserRecord | undefined>;
  /** Case-insensitive. */
  getByEmail(email: string): Promise<UserRecord | undefined>;
  /** A user added by e-mail who has not signed in yet (no subject). Case-insensitive. */
  getUnclaimedByEmail(email: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  remove(id: string): Promise<void>;
}

/** A group whose members may sign in with single sign-on (hub/src/identity). */
export interface AuthorizedGroupRecord extends AuthorizedGroup {
  createdAt: string;
}

export interface AuthorizedGroupStore {
  list(): Promise<AuthorizedGroupRecord[]>;
  get(groupId: string): Promise<AuthorizedGroupRecord | undefined>;
  upsert(record: AuthorizedGroupRecord): Promise<void>;
  /** False when there was no such group. */
  remove(groupId: string): Promise<boolean>;
}

export interface SessionRecord {
  /** SHA-256 of the session id; the id itself lives only in the cookie. */
  hash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionStore {
  create(record: SessionRecord): Promise<void>;
  get(hash: string): Promise<SessionRecord | undefined>;
  extend(hash: string, expiresAt: string): Promise<void>;
  remove(hash: string): Promise<void>;
  removeExpired(now: string): Promise<number>;
  /** Ends every session of a user (disabled or removed by an admin); returns how many. */
  removeForUser(userId: string): Promise<number>;
}

/** Columns of one audit row in chain order, as stored (see hub/src/audit/chain-text.ts for what is hashed). */
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
  /**
   * Appends entries in order after the current last one; `chain` computes each entry's hash from the hash before it.
   * Inside a transaction they commit with it; otherwise in a transaction of their own before the Promise resolves.
   */
  append(
    entries: (AuditEntryInput & { at: string })[],
    chain: (entry: AuditEntryInput & { at: string }, prevHash: string, seq: number) => string,
  ): Promise<AuditRecord[]>;
  last(): Promise<AuditRecord | undefined>;
  query(filter: AuditFilter): Promise<AuditRecord[]>;
  /** Streams entries in seq order from `fromSeq`. */
  iterate(fromSeq: number): AsyncIterable<AuditRecord>;
  /** The chained columns as stored, in `AuditChainRow` order, with `fromSeq <= seq <= toSeq` (verification). */
  chainRows(fromSeq: number, toSeq?: number): AsyncIterable<AuditChainRow>;
  count(): Promise<number>;
  /**
   * Deletes the entries with `seq <= throughSeq` (audit retention, after hub/src/audit/retention.ts archived them and
   * recorded the pruned prefix's head); returns how many. Call it in the transaction that records that head.
   */
  pruneThrough(throughSeq: number): Promise<number>;
  /**
   * Optional accelerator for a full verify: checks `from..to` in ranges side by side (SQLite: worker threads on
   * their own connections), each from the stored hash before it; undefined when it would not pay off. Rows it cannot
   * confirm come back as suspects for the caller's check over `chainRows`. `onWalked` hears how many rows the ranges
   * have walked so far, summed, every few thousand rows (verify progress). An abort of `signal` stops the ranges at
   * once (SQLite: the worker threads are terminated) and rejects with its reason.
   */
  checkRanges?(
    key: Buffer,
    from: number,
    to: number,
    prevHash: string,
    tuning?: RangeTuning,
    onWalked?: (walked: number) => void,
    signal?: AbortSignal,
  ): Promise<ChainRangeResult[] | undefined>;
}

/** What one range's check found. */
export interface ChainRangeResult {
  from: number;
  to: number;
  /** Rows whose hash matched. */
  checked: number;
  /** `[seq, prevHash]` of rows to check again the slow way (text built in JS, or from parsed columns). */
  suspects: [number, string][];
  /** Entry `seq` is missing (`next` is the entry found in its place, if any). */
  missing?: { seq: number; next?: number };
  /** Stopped early (too many suspects, or the worker failed): the caller walks `resumeAt..to` itself, from `resumePrevHash`. */
  resumeAt?: number;
  resumePrevHash?: string;
  /** The stored hash of the last row walked. */
  lastHash: string;
}

/** How to split a ranged check: ranges of at least `minRowsPerThread` rows, on at most `maxThreads` threads. */
export interface RangeTuning {
  minRowsPerThread?: number;
  maxThreads?: number;
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
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
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

/** The deployment's trust store for integration packs: one document every hub verifies against. */
export interface IntegrationTrustRecord {
  /** The trust store's JSON text, as imported (`sonde-registry trust` format). */
  document: string;
  /** 1 for the first document, one more at each replacement. */
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

export interface IntegrationStore {
  listPacks(): Promise<IntegrationPackRecord[]>;
  getPack(name: string): Promise<IntegrationPackRecord | undefined>;
  /** Creates the pack row if missing (nothing approved yet). */
  ensurePack(name: string, packageName: string): Promise<void>;
  /**
   * Records an approval if the approved version is still `previous` (what the caller read; null: none yet). False when
   * another approval came first: of two racing approvals one is applied.
   */
  setApproved(
    name: string,
    previous: string | null,
    approval: { version: string; digest: string; at: string; by: string },
  ): Promise<boolean>;
  /** Deletes the pack, its versions and its instances. */
  removePack(name: string): Promise<void>;
  listVersions(name?: string): Promise<IntegrationPackVersionRecord[]>;
  getVersion(name: string, version: string): Promise<IntegrationPackVersionRecord | undefined>;
  putVersion(record: IntegrationPackVersionRecord): Promise<void>;
  setVersionState(name: string, version: string, state: IntegrationVersionState): Promise<void>;
  removeVersion(name: string, version: string): Promise<void>;
  /** The verified files of one version (an opaque archive), so every hub can load it; removed with the version. */
  putArchive(name: string, version: string, archive: string): Promise<void>;
  getArchive(name: string, version: string): Promise<string | undefined>;
  getTrust(): Promise<IntegrationTrustRecord | undefined>;
  /** Replaces (or first stores) the trust store; returns its new revision. */
  putTrust(document: string, at: string, by: string): Promise<number>;
  /** The SHA-256 last read from one trust file (`host:path`), if it was ever read. */
  getTrustSource(source: string): Promise<string | undefined>;
  setTrustSource(source: string, sha256: string, at: string): Promise<void>;
  listInstances(pack?: string): Promise<IntegrationInstanceRecord[]>;
  getInstance(idOrName: string): Promise<IntegrationInstanceRecord | undefined>;
  createInstance(record: IntegrationInstanceRecord): Promise<void>;
  updateInstance(
    id: string,
    patch: Partial<
      Pick<IntegrationInstanceRecord, 'name' | 'endpoint' | 'credentialsSealed' | 'status' | 'lastError' | 'lastCheckedAt' | 'updatedAt'>
    >,
  ): Promise<void>;
  removeInstance(id: string): Promise<void>;
}

/**
 * One record of the hub's OAuth authorization server (oidc-provider's models: `AccessToken`, `AuthorizationCode`,
 * `RefreshToken`, `Grant`, `Client`, `Session`, `Interaction`, …), kept generic so every backend stores them in one
 * table. `id` is the SHA-256 of the model's id (tokens and codes are never stored in the clear); the indexed columns
 * are copied out of the payload so revocation by grant, user or client is one statement.
 */
export interface OAuthRecord {
  kind: string;
  id: string;
  /** The model's JSON as oidc-provider wrote it. */
  payload: string;
  grantId: string | null;
  /** The hub user (oidc-provider's `accountId`). */
  userId: string | null;
  clientId: string | null;
  /** Sessions and interactions are also found by their uid. */
  uid: string | null;
  expiresAt: string | null;
  /** Set once, atomically (authorization codes, rotated refresh tokens). */
  consumedAt: string | null;
}

export interface OAuthRecordStore {
  /** Inserts or replaces (kind, id); a replace keeps `consumedAt`. */
  put(record: Omit<OAuthRecord, 'consumedAt'>): Promise<void>;
  get(kind: string, id: string): Promise<OAuthRecord | undefined>;
  getByUid(kind: string, uid: string): Promise<OAuthRecord | undefined>;
  /** Sets `consumedAt` if it was empty; false when the record is missing or was consumed already. */
  consume(kind: string, id: string, at: string): Promise<boolean>;
  remove(kind: string, id: string): Promise<void>;
  /** Deletes every record (any kind) of one grant, user or client (exactly one of them); returns how many. */
  removeWhere(match: { grantId: string } | { userId: string } | { clientId: string }): Promise<number>;
  /** Records of one kind, optionally of one user and/or client, not expired at `now`. */
  list(kind: string, match: { userId?: string; clientId?: string }, now: string): Promise<OAuthRecord[]>;
  removeExpired(now: string): Promise<number>;
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
  authorizedGroups: AuthorizedGroupStore;
  /** Started single sign-on logins (state, nonce, PKCE verifier): 10 minutes, single use. */
  loginStates: LoginStateStore;
  /** The OAuth authorization server's records (hub/src/oauth): tokens, codes, grants, registered clients, its sessions. */
  oauth: OAuthRecordStore;
  /**
   * Runs `fn` in one transaction on a store scoped to it (`tx`): committed when the Promise `fn` returns resolves,
   * rolled back when it rejects. Use `tx`, never the outer store, inside `fn`: the outer store waits for the
   * transaction to end. A `tx.transaction` nests (a savepoint). A networked backend may run `fn` again from the
   * start when the database reports a conflict with a concurrent transaction (PostgreSQL: serializable isolation),
   * so `fn` keeps effects outside the store to what is safe to repeat.
   */
  transaction<T>(fn: (tx: HubStore) => Promise<T>): Promise<T>;
  /**
   * Writes a consistent copy of the whole database (one point in time, every table) to `destination`, a file that
   * must not exist yet, while the store stays in use; `sonde-hub backup` (hub/src/backup/). Not on a transaction
   * handle. The copy is created 0600 and is complete when the Promise resolves (written under another name, then renamed).
   */
  backup(destination: string): Promise<BackupInfo>;
  /**
   * Runs `fn` while no other hub process on this database runs an exclusive section: the first boot (salt, secret
   * check, CA, bootstrap admin), so hubs starting together on an empty database create them once. PostgreSQL: the
   * hubs' session advisory lock; SQLite: nothing more is needed (its transactions take the file's write lock).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What `HubStore.backup` wrote. */
export interface BackupInfo {
  file: string;
  bytes: number;
  /** The schema version the copy is at (a newer hub migrates it on start). */
  schemaVersion: number;
}
