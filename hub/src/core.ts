import { openAuditLogFor, type HubAuditLog } from './audit/open.js';
import { caMissing, createHubWireKey, generateRsaKey, openCa, type HubCa, type HubWireKey } from './ca/index.js';
import { openCrypto, openCryptoAsync, type HubCrypto } from './crypto/index.js';
import { createEnrollmentTokenService, type EnrollmentTokenService } from './enrollment/index.js';
import { effectiveRole } from './identity/roles.js';
import { createApiKeyService, type ApiKeyService } from './keys/index.js';
import { createPolicyDecisionPoint } from './policy/pdp.js';
import { RevocationService } from './revocations/index.js';
import { AgentDirectory } from './fleet/directory.js';
import type { PolicyDecisionPoint } from './services.js';
import { openHubStore } from './store/open.js';
import type { HubStore } from './store/types.js';

/**
 * Everything that works on the database without serving HTTP: the server and
 * the headless CLI both start here, so they share one set of rules.
 */
export interface HubCore {
  store: HubStore;
  /** The agents in memory, following the store's change feed (fleet view, MCP catalog, probe routing). */
  directory: AgentDirectory;
  crypto: HubCrypto;
  audit: HubAuditLog;
  apiKeys: ApiKeyService;
  tokens: EnrollmentTokenService;
  pdp: PolicyDecisionPoint;
  /** The hub-signed pack revocation list. */
  revocations: RevocationService;
  /** Present when opened with `ca: true` (the server; the CLI does not need it). */
  ca: HubCa | undefined;
  /** The hub's Ed25519 wire key, certified by the CA; present with `ca`. */
  wire: HubWireKey | undefined;
  close(): Promise<void>;
}

interface OpenCoreOptions {
  /** A SQLite file, or a postgres:// URL (SONDE_DATABASE_URL). */
  dbPath: string;
  secret: string;
  ca: boolean;
}

/** The CLI's core: scrypt on this thread. */
export async function openHubCore(options: OpenCoreOptions): Promise<HubCore> {
  const store = await openHubStore(options.dbPath);
  try {
    // First boot (salt, secret check, CA) once, whichever hub or CLI starts first on an empty database.
    const { crypto, ca } = await store.exclusive(async () => {
      const crypto = await openCrypto(options.secret, store);
      return { crypto, ca: options.ca ? await openCa(store, crypto.sealer) : undefined };
    });
    return await assemble(store, crypto, ca, options.dbPath);
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * The server's openHubCore: scrypt and, on a new database, the CA key generation run on
 * libuv's thread pool, so the caller can load its modules meanwhile (start it, then import).
 */
export async function openHubCoreAsync(options: OpenCoreOptions): Promise<HubCore> {
  const store = await openHubStore(options.dbPath);
  try {
    // First boot (salt, secret check, CA) once, whichever hub starts first on an empty database: another hub
    // starting at the same moment waits here and then reads what this one created.
    const { crypto, ca } = await store.exclusive(async () => {
      const newCaKey = options.ca && (await caMissing(store)) ? generateRsaKey() : undefined;
      // Promise.all observes both, so a failure of one never leaves the other as an unhandled rejection.
      const [crypto, caKey] = await Promise.all([openCryptoAsync(options.secret, store), newCaKey]);
      return { crypto, ca: options.ca ? await openCa(store, crypto.sealer, caKey) : undefined };
    });
    return await assemble(store, crypto, ca, options.dbPath);
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function assemble(store: HubStore, crypto: HubCrypto, ca: HubCa | undefined, dbPath: string): Promise<HubCore> {
  const audit = openAuditLogFor(store, crypto, dbPath);
  const directory = await AgentDirectory.open(store);
  return {
    store,
    directory,
    crypto,
    ca,
    wire: ca ? createHubWireKey(crypto.wireSeed, ca.privateKey) : undefined,
    audit,
    revocations: new RevocationService(crypto.revocationSeed, store, audit),
    apiKeys: createApiKeyService(store.apiKeys, {
      ownerActive: async (userId) => {
        const user = await store.users.getById(userId);
        return Boolean(user && effectiveRole(user, await store.authorizedGroups.list()));
      },
    }),
    tokens: createEnrollmentTokenService(store.enrollmentTokens),
    pdp: createPolicyDecisionPoint(),
    close: async () => {
      directory.close();
      // The anchor names only committed entries; let its last write land before the process may exit.
      await audit.settled();
      await store.close();
    },
  };
}
