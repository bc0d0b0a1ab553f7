import { openAuditLogFor, type HubAuditLog } from './audit/open.js';
import { caMissing, generateRsaKey, openCa, type HubCa } from './ca/index.js';
import { openCrypto, openCryptoAsync, type HubCrypto } from './crypto/index.js';
import { createEnrollmentTokenService, type EnrollmentTokenService } from './enrollment/index.js';
import { createApiKeyService, type ApiKeyService } from './keys/index.js';
import { createPolicyDecisionPoint } from './policy/pdp.js';
import { RevocationService } from './revocations/index.js';
import type { PolicyDecisionPoint } from './services.js';
import { openSqliteStore, type SqliteHubStore } from './store/sqlite/index.js';

/**
 * Everything that works on the database without serving HTTP: the server and
 * the headless CLI both start here, so they share one set of rules.
 */
export interface HubCore {
  store: SqliteHubStore;
  crypto: HubCrypto;
  audit: HubAuditLog;
  apiKeys: ApiKeyService;
  tokens: EnrollmentTokenService;
  pdp: PolicyDecisionPoint;
  /** The hub-signed pack revocation list. */
  revocations: RevocationService;
  /** Present when opened with `ca: true` (the server; the CLI does not need it). */
  ca: HubCa | undefined;
  close(): void;
}

interface OpenCoreOptions {
  dbPath: string;
  secret: string;
  ca: boolean;
}

export function openHubCore(options: OpenCoreOptions): HubCore {
  const store = openSqliteStore(options.dbPath);
  try {
    const crypto = openCrypto(options.secret, store);
    return assemble(store, crypto, options.ca ? openCa(store, crypto.sealer) : undefined);
  } catch (error) {
    store.close();
    throw error;
  }
}

/**
 * The server's openHubCore: scrypt and, on a new database, the CA key generation run on
 * libuv's thread pool, so the caller can load its modules meanwhile (start it, then import).
 */
export async function openHubCoreAsync(options: OpenCoreOptions): Promise<HubCore> {
  const store = openSqliteStore(options.dbPath);
  try {
    const newCaKey = options.ca && caMissing(store) ? generateRsaKey() : undefined;
    // Promise.all observes both, so a failure of one never leaves the other as an unhandled rejection.
    const [crypto, caKey] = await Promise.all([openCryptoAsync(options.secret, store), newCaKey]);
    return assemble(store, crypto, options.ca ? openCa(store, crypto.sealer, caKey) : undefined);
  } catch (error) {
    store.close();
    throw error;
  }
}

function assemble(store: SqliteHubStore, crypto: HubCrypto, ca: HubCa | undefined): HubCore {
  const audit = openAuditLogFor(store, crypto);
  return {
    store,
    crypto,
    ca,
    audit,
    revocations: new RevocationService(crypto.revocationSeed, store.settings, audit),
    apiKeys: createApiKeyService(store.apiKeys),
    tokens: createEnrollmentTokenService(store.enrollmentTokens),
    pdp: createPolicyDecisionPoint(),
    close: () => store.close(),
  };
}
