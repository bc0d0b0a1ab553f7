import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from './driver.js';
import type { AuditChainRow, AuditStore, BackupInfo, HubStore } from '../types.js';
import type { AuditRecord } from '../../services.js';
import type { SqliteAgentStore } from './agents.js';
import type { SyncHubStore } from './sync.js';

/**
 * The Promise side of the SQLite store. better-sqlite3 is synchronous and has
 * one connection, so a statement never interleaves with another; only a
 * transaction spans `await`s. The mutex is held by a transaction from BEGIN to
 * COMMIT: a call on the store from anywhere else waits for it, so no other
 * request's statements land inside it. Outside transactions a call runs at
 * once (the common case costs one resolved Promise).
 */
class ConnectionMutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  get busy(): boolean {
    return this.held;
  }

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/** One transaction's hold on the connection; `active` turns false when it ends. */
interface Claim {
  active: boolean;
  savepoints: number;
}

type Gate = <R>(op: () => R) => Promise<R>;

/** Rows per read while iterating: the mutex is released between pages, so other requests run in between. */
export const PAGE_ROWS = 1_000;

const INSIDE_TRANSACTION =
  'a store call inside a transaction must use the transaction handle passed to the callback (calls on the outer store wait for the transaction to end)';

const run = <R>(op: () => R): Promise<R> => {
  try {
    return Promise.resolve(op());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
};

/** Every method of `target` behind `gate` (watch is synchronous and passes through). */
function gated<T extends object>(target: T, gate: Gate): never {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function') continue;
    const method = value as (...args: unknown[]) => unknown;
    out[name] = name === 'watch' ? method : (...args: unknown[]) => gate(() => method(...args));
  }
  return out as never;
}

function gatedAudit(sync: SyncHubStore['audit'], gate: Gate, extra: Pick<AuditStore, 'checkRanges'>): AuditStore {
  async function* pages<T>(read: (from: number) => T[], seqOf: (row: T) => number, fromSeq: number): AsyncIterable<T> {
    let from = fromSeq;
    for (;;) {
      const rows = await gate(() => read(from));
      yield* rows;
      if (rows.length < PAGE_ROWS) return;
      from = seqOf(rows[rows.length - 1]) + 1;
    }
  }
  return {
    append: (entries, chain) => gate(() => sync.append(entries, chain)),
    last: () => gate(() => sync.last()),
    query: (filter) => gate(() => sync.query(filter)),
    count: () => gate(() => sync.count()),
    pruneThrough: (throughSeq) => gate(() => sync.pruneThrough(throughSeq)),
    iterate: (fromSeq) =>
      pages<AuditRecord>(
        (from) => sync.page(from, PAGE_ROWS),
        (row) => row.seq,
        fromSeq,
      ),
    chainRows: (fromSeq, toSeq = Number.MAX_SAFE_INTEGER) =>
      pages<AuditChainRow>(
        (from) => sync.chainPage(from, toSeq, PAGE_ROWS),
        (row) => row[0],
        fromSeq,
      ),
    ...extra,
  };
}

export interface ConnectionOptions {
  db: Database;
  /** `HubStore.backup` on this connection, run outside any transaction (backup.ts). */
  backup: (destination: string) => BackupInfo;
  sync: SyncHubStore & { agents: SqliteAgentStore };
  auditExtra: Pick<AuditStore, 'checkRanges'>;
  /** How often to look for commits by other connections (the CLI) for the agents' change feed. */
  pollMs?: number;
}

export function asyncStore({ db, sync, auditExtra, backup, pollMs = 250 }: ConnectionOptions): HubStore {
  const mutex = new ConnectionMutex();
  const inTransaction = new AsyncLocalStorage<Claim>();
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  const outerGate: Gate = (op) => {
    if (!mutex.busy) return run(op);
    if (inTransaction.getStore()?.active) return Promise.reject(new Error(INSIDE_TRANSACTION));
    return mutex.acquire().then(() => {
      try {
        return op();
      } finally {
        mutex.release();
      }
    });
  };

  function build(gate: Gate, transaction: HubStore['transaction'], close: HubStore['close'], copy: HubStore['backup']): HubStore {
    const cache: Partial<HubStore> = {};
    const lazy = <K extends keyof HubStore>(key: K, make: () => HubStore[K]) => ({
      get: () => (cache[key] ??= make()),
      enumerable: true,
    });
    // Sub-stores are wrapped on first use: a transaction handle for one audit append builds two of them, not nine.
    // One file: every transaction already takes its write lock (BEGIN IMMEDIATE), which is all a first boot needs.
    const exclusive: HubStore['exclusive'] = (fn) => fn();
    return Object.defineProperties({ transaction, close, backup: copy, exclusive } as HubStore, {
      agents: lazy('agents', () => gated(sync.agents, gate)),
      apiKeys: lazy('apiKeys', () => gated(sync.apiKeys, gate)),
      enrollmentTokens: lazy('enrollmentTokens', () => gated(sync.enrollmentTokens, gate)),
      users: lazy('users', () => gated(sync.users, gate)),
      sessions: lazy('sessions', () => gated(sync.sessions, gate)),
      audit: lazy('audit', () => gatedAudit(sync.audit, gate, auditExtra)),
      settings: lazy('settings', () => gated(sync.settings, gate)),
      revokedCerts: lazy('revokedCerts', () => gated(sync.revokedCerts, gate)),
      integrations: lazy('integrations', () => gated(sync.integrations, gate)),
      authorizedGroups: lazy('authorizedGroups', () => gated(sync.authorizedGroups, gate)),
      loginStates: lazy('loginStates', () => gated(sync.loginStates, gate)),
      oauth: lazy('oauth', () => gated(sync.oauth, gate)),
    });
  }

  const notInTransaction = (): Promise<never> => Promise.reject(new Error('a transaction handle cannot close the store'));

  function handle(claim: Claim): HubStore {
    const gate: Gate = (op) => (claim.active ? run(op) : Promise.reject(new Error('this transaction has already ended')));
    const nested = async <T>(fn: (tx: HubStore) => Promise<T>): Promise<T> => {
      if (!claim.active) throw new Error('this transaction has already ended');
      const name = `sonde_${++claim.savepoints}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn(tx);
        db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        if (claim.active && db.inTransaction) {
          db.exec(`ROLLBACK TO ${name}`);
          db.exec(`RELEASE ${name}`);
        }
        throw error;
      }
    };
    const tx = build(gate, nested, notInTransaction, () => Promise.reject(new Error('a transaction handle cannot take a backup')));
    return tx;
  }

  const transaction = async <T>(fn: (tx: HubStore) => Promise<T>): Promise<T> => {
    if (inTransaction.getStore()?.active) throw new Error(INSIDE_TRANSACTION);
    await mutex.acquire();
    const claim: Claim = { active: true, savepoints: 0 };
    try {
      // IMMEDIATE: take the write lock now (the CLI may write too), not at the first write after a read.
      begin.run();
      let result: T;
      try {
        result = await inTransaction.run(claim, () => fn(handle(claim)));
        commit.run();
      } catch (error) {
        claim.active = false;
        if (db.inTransaction) rollback.run();
        sync.agents.settle(false);
        throw error;
      }
      claim.active = false;
      sync.agents.settle(true);
      return result;
    } finally {
      claim.active = false;
      mutex.release();
    }
  };

  const poll = setInterval(() => {
    if (!mutex.busy && db.open) sync.agents.pollForeignChanges();
  }, pollMs);
  poll.unref();

  const close: HubStore['close'] = async () => {
    clearInterval(poll);
    // Let a running transaction finish first.
    await mutex.acquire();
    try {
      if (db.open) db.close();
    } finally {
      mutex.release();
    }
  };

  // Through the outer gate: a running transaction ends first (VACUUM INTO cannot run inside one).
  return build(outerGate, transaction, close, (destination) => outerGate(() => backup(destination)));
}
