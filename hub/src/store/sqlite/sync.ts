import type { AuditChainRow, AuditFilter, HubStore } from '../types.js';
import type { AuditEntryInput, AuditRecord } from '../../services.js';

/**
 * The synchronous shape of a store interface: what the better-sqlite3 code in
 * this folder implements. `connection.ts` puts the Promises (and the
 * connection mutex) in front of it.
 */
export type Sync<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

type Entry = AuditEntryInput & { at: string };

/** The audit store's synchronous side: iteration comes in pages (a page per turn of the mutex). */
export interface SyncAuditStore {
  append(entries: Entry[], chain: (entry: Entry, prevHash: string, seq: number) => string): AuditRecord[];
  last(): AuditRecord | undefined;
  query(filter: AuditFilter): AuditRecord[];
  /** Up to `limit` entries with `seq >= fromSeq`, by seq. */
  page(fromSeq: number, limit: number): AuditRecord[];
  /** Up to `limit` chain rows with `fromSeq <= seq <= toSeq`, by seq. */
  chainPage(fromSeq: number, toSeq: number, limit: number): AuditChainRow[];
  count(): number;
  pruneThrough(throughSeq: number): number;
}

export interface SyncHubStore {
  agents: Sync<HubStore['agents']>;
  apiKeys: Sync<HubStore['apiKeys']>;
  enrollmentTokens: Sync<HubStore['enrollmentTokens']>;
  users: Sync<HubStore['users']>;
  sessions: Sync<HubStore['sessions']>;
  audit: SyncAuditStore;
  settings: Sync<HubStore['settings']>;
  revokedCerts: Sync<HubStore['revokedCerts']>;
  integrations: Sync<HubStore['integrations']>;
  authorizedGroups: Sync<HubStore['authorizedGroups']>;
  loginStates: Sync<HubStore['loginStates']>;
  oauth: Sync<HubStore['oauth']>;
}
