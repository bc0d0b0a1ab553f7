import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { HubStore } from '../types.js';
import { AgentFeed, pgAgentStore, pgRevokedCertStore } from './agents.js';
import { pgAuditStore } from './audit.js';
import type { Queryable, Scope, TxState } from './db.js';
import { pgIntegrationStore } from './integrations.js';
import { pgApiKeyStore, pgEnrollmentTokenStore } from './keys.js';
import { migrate } from './migrations.js';
import { pgOAuthStore } from './oauth.js';
import { HubError } from '../../errors.js';
import { pgAuthorizedGroupStore, pgLoginStateStore, pgSessionStore, pgSettingsStore, pgUserStore } from './users.js';

export { LATEST_VERSION, MIGRATIONS } from './migrations.js';

/** The key of the session advisory lock every hub on the database takes to migrate and to run a first boot. */
const HUB_LOCK = 0x50_4e_44_45; // "SNDE"

/** Serialization failure and deadlock: the transaction lost a race and is run again from the start. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 30;

const INSIDE_TRANSACTION =
  'a store call inside a transaction must use the transaction handle passed to the callback (calls on the outer store wait for the transaction to end)';

/** bigint (seq, counts, result sizes) as a JS number: the hub's values stay far below 2^53. */
const toNumber = (value: string): number => Number(value);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === 20 ? toNumber : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

export interface PostgresHubStore extends HubStore {
  readonly schemaVersion: number;
}

/** One transaction's hold on its client; `active` turns false when it ends. */
interface Claim {
  active: boolean;
  savepoints: number;
  /** A statement in it failed with a serialization failure or deadlock: the whole transaction is retried. */
  conflicted: boolean;
}

const codeOf = (error: unknown): string | undefined => (error as { code?: unknown } | null)?.code as string | undefined;

/**
 * PostgreSQL text cannot hold NUL (22021), nor jsonb a `\u0000` escape (22P05). SQLite stores both, so client text
 * with NUL reaches this store (a key name, a setting, a lookup): the caller gets a clear 400, never a database error
 * turned 500. The audit columns are stored escaped instead (db.ts `encodeText`), so a NUL never fails an append.
 */
const NUL_CODES = new Set(['22021', '22P05']);
export function clearStoreError(error: unknown): unknown {
  if (!NUL_CODES.has(codeOf(error) ?? '')) return error;
  return new HubError(
    'SONDE_ERR_VALIDATION',
    'text with a NUL character (\\u0000) cannot be stored or looked up (PostgreSQL store); remove it and try again',
  );
}

/**
 * Opens the PostgreSQL store at `url` (postgres://…): a pool for statements and transactions, a dedicated
 * connection for LISTEN (the agents' change feed), and every pending migration applied under the hubs' advisory
 * lock on a connection of its own, so hubs starting together migrate once.
 */
export async function openPostgresStore(url: string, options: { poolSize?: number } = {}): Promise<PostgresHubStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types, application_name: 'sonde-hub' });
  // An idle client that loses its server connection emits on the pool; the next checkout gets a new one.
  pool.on('error', () => undefined);
  // The server processes of this store's own connections: their notifications report writes the feed reported already.
  const ownBackends = new Set<number>();
  pool.on('connect', (client) => {
    const pid = backendPid(client);
    if (pid !== undefined) ownBackends.add(pid);
  });
  pool.on('remove', (client) => {
    const pid = backendPid(client);
    if (pid !== undefined) ownBackends.delete(pid);
  });
  const listening: { client?: pg.Client } = {};
  try {
    const { to } = await withHubLock(url, (db) => migrate(db));
    const feed = new AgentFeed(pool);
    const inTransaction = new AsyncLocalStorage<Claim>();
    let closed = false;

    const outer: Queryable = {
      query: (text, values) => {
        if (inTransaction.getStore()?.active) return Promise.reject(new Error(INSIDE_TRANSACTION));
        return pool.query(text, values).catch((error: unknown) => {
          throw clearStoreError(error);
        });
      },
    };

    /** Runs `fn` on one pooled client in a transaction of `isolation`; retried when it loses a race. */
    const runTransaction = async <T>(
      isolation: string,
      fn: (client: Queryable, claim: Claim, state: TxState) => Promise<T>,
    ): Promise<T> => {
      if (inTransaction.getStore()?.active) throw new Error(INSIDE_TRANSACTION);
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        const claim: Claim = { active: true, savepoints: 0, conflicted: false };
        const state: TxState = { agentIds: new Set(), seen: new Map(), statements: 0 };
        const db: Queryable = {
          query: async (text, values) => {
            if (!claim.active) throw new Error('this transaction has already ended');
            state.statements++;
            try {
              return await client.query(text, values);
            } catch (error) {
              if (RETRYABLE.has(codeOf(error) ?? '')) claim.conflicted = true;
              throw clearStoreError(error);
            }
          },
        };
        let broken = false;
        try {
          await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
          let result: T;
          try {
            result = await inTransaction.run(claim, () => fn(db, claim, state));
            await client.query('COMMIT');
          } catch (error) {
            claim.active = false;
            await client.query('ROLLBACK').catch(() => (broken = true));
            const conflicted = claim.conflicted || RETRYABLE.has(codeOf(error) ?? '');
            if (conflicted && attempt < MAX_ATTEMPTS) {
              // Back off a little (jittered, growing) so the racers do not collide again at once.
              await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
              continue;
            }
            throw error;
          }
          claim.active = false;
          await feed.changed(state.agentIds);
          await feed.seen([...state.seen].filter(([id]) => !state.agentIds.has(id)));
          return result;
        } finally {
          claim.active = false;
          client.release(broken);
        }
      }
    };

    function build(scope: Scope, claim: Claim | undefined): HubStore {
      const transaction: HubStore['transaction'] = claim
        ? async (fn) => {
            if (!claim.active) throw new Error('this transaction has already ended');
            const name = `sonde_${++claim.savepoints}`;
            await scope.db.query(`SAVEPOINT ${name}`);
            try {
              const result = await fn(self);
              await scope.db.query(`RELEASE SAVEPOINT ${name}`);
              return result;
            } catch (error) {
              if (claim.active && !claim.conflicted) await scope.db.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
              throw error;
            }
          }
        : // Serializable: a transaction that reads and then writes (a revocation serial, an agent re-enrolled under a
          // bound name, a salt created on first boot) fails and is run again if another hub changed what it read.
          (fn) => runTransaction('SERIALIZABLE', (db, txClaim, state) => fn(build({ db, tx: state }, txClaim)));
      const self: HubStore = {
        agents: pgAgentStore(scope, feed),
        apiKeys: pgApiKeyStore(scope),
        enrollmentTokens: pgEnrollmentTokenStore(scope),
        users: pgUserStore(scope),
        sessions: pgSessionStore(scope),
        // An append outside a transaction takes its own, READ COMMITTED: the head row lock orders it, nothing to retry.
        audit: pgAuditStore(scope, (fn) => runTransaction('READ COMMITTED', (db) => fn(db))),
        settings: pgSettingsStore(scope),
        revokedCerts: pgRevokedCertStore(scope),
        integrations: pgIntegrationStore(scope),
        authorizedGroups: pgAuthorizedGroupStore(scope),
        loginStates: pgLoginStateStore(scope),
        oauth: pgOAuthStore(scope),
        transaction,
        backup: () =>
          Promise.reject(
            new HubError(
              'SONDE_ERR_VALIDATION',
              'sonde-hub backup copies a SQLite database; on PostgreSQL (SONDE_DATABASE_URL) back up with pg_dump or your provider',
            ),
          ),
        exclusive: (fn) => (claim ? fn() : withHubLock(url, () => fn())),
        close: claim
          ? () => Promise.reject(new Error('a transaction handle cannot close the store'))
          : async () => {
              if (closed) return;
              closed = true;
              feed.stop();
              await listening.client?.end().catch(() => undefined);
              await pool.end();
            },
      };
      return self;
    }

    await listen(url, feed, listening, () => closed, ownBackends);
    return Object.defineProperty(build({ db: outer, tx: undefined }, undefined) as PostgresHubStore, 'schemaVersion', {
      value: to,
      enumerable: false,
    });
  } catch (error) {
    await listening.client?.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/** The server process of a connected client (BackendKeyData; the driver keeps it, its typings do not list it). */
function backendPid(client: pg.PoolClient): number | undefined {
  const pid = (client as unknown as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : undefined;
}

/**
 * Runs `fn` holding the hubs' session advisory lock, on a connection opened for it (never a pooled one: a session
 * lock must be released on the connection that took it, and a hub that dies releases it with its connection).
 */
async function withHubLock<T>(url: string, fn: (db: Queryable) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, types, application_name: 'sonde-hub (lock)' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [HUB_LOCK]);
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [HUB_LOCK]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * LISTEN sonde_agents on a connection of its own: each notification names an agent another hub (or the CLI, or
 * another store on the database) changed; the feed reads and reports it. Notifications sent by `ownBackends` (this
 * store's pool) are skipped: the write was reported when it was made. When the connection drops, the feed reports
 * `resync` (the directory reloads) and a new one is opened.
 */
async function listen(
  url: string,
  feed: AgentFeed,
  listening: { client?: pg.Client },
  closed: () => boolean,
  ownBackends: ReadonlySet<number>,
): Promise<void> {
  const client = new pg.Client({ connectionString: url, types, application_name: 'sonde-hub (listen)' });
  listening.client = client;
  await client.connect();
  client.on('notification', (message) => {
    if (message.channel === 'sonde_agents' && message.payload && !ownBackends.has(message.processId)) feed.notify(message.payload);
  });
  client.on('error', () => undefined);
  client.on('end', () => {
    if (closed()) return;
    feed.emit({ kind: 'resync' });
    const retry = (): void => {
      if (closed()) return;
      listen(url, feed, listening, closed, ownBackends).then(
        () => feed.emit({ kind: 'resync' }),
        () => setTimeout(retry, 1_000).unref(),
      );
    };
    setTimeout(retry, 1_000).unref();
  });
  await client.query('LISTEN sonde_agents');
}
