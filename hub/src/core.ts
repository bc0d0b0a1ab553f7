import { openAuditLogFor, type HubAuditLog } from './audit/open.js';
import { openCa, type HubCa } from './ca/index.js';
import { openCrypto, type HubCrypto } from './crypto/index.js';
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

export function openHubCore(options: { dbPath: string; secret: string; ca: boolean }): HubCore {
  const store = openSqliteStore(options.dbPath);
  try {
    const crypto = openCrypto(options.secret, store);
    const ca = options.ca ? openCa(store, crypto.sealer) : undefined;
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
  } catch (error) {
    store.close();
    throw error;
  }
}
