import type { AuditLog, Principal } from '../services.js';
import type { Sealer } from '../crypto/index.js';
import type { HubStore } from '../store/types.js';
import type { AuditEntryInput } from '../services.js';
import type { RevocationList } from '@sonde/registry';
import type { InstanceRunners, RunnerFactoryOptions } from './runners.js';
import type { Actor } from './types.js';

export function actorOf(principal: Principal): Actor {
  return { kind: principal.kind, id: principal.id, name: principal.name };
}

export const SYSTEM: Actor = { kind: 'system', id: null, name: 'hub' };

export interface IntegrationServiceOptions {
  store: HubStore;
  sealer: Sealer;
  audit: AuditLog;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  trustFile: string;
  packsDir: string;
  /** Host paths a pack may never read whatever it declares (database, secret material). */
  deniedPaths: readonly string[];
  runner?: Omit<RunnerFactoryOptions, 'packsDir' | 'deniedPaths' | 'onSecurityEvent'>;
  /**
   * The hub's own signed revocation list (hub/src/revocations), applied at every load on top of the trust
   * store (its signing key is added to `hubKeys`); a new list reloads, so a revoked key or version stops serving at once.
   */
  revocations?: HubRevocations;
}

export interface HubRevocations {
  current(): Promise<RevocationList | undefined>;
  publicKey(): { keyId: string; publicKey: string };
  onChange(listener: (list: RevocationList) => void): () => void;
}

/** What the parts of the integration service share: its options, the packs' store folder, the sandboxes, the audit. */
export interface IntegrationDeps {
  options: IntegrationServiceOptions;
  /** `<packsDir>/store`: verified files of every installed version. */
  storeDir: string;
  runners: InstanceRunners;
  /** Audited in `tx` when given (it commits with the change), else on its own. */
  audit(actor: Actor, entry: Omit<AuditEntryInput, 'actor'>, tx?: HubStore): Promise<void>;
}
