import { existsSync } from 'node:fs';
import { isRegistryError, loadTrust, readJsonFile, type Trust } from '@sonde/registry';
import type { IntegrationServiceOptions } from './context.js';
import type { Refusal } from './types.js';

const EMPTY_TRUST_STORE = { type: 'sonde-trust-store', keys: [] };

/**
 * The trust store the hub verifies integration packs against (SONDE_TRUST_FILE), with the hub's own
 * signed revocation list applied on top, and why nothing is trusted when the file is missing or unusable.
 */
export class IntegrationTrust {
  current: Trust = loadTrust(EMPTY_TRUST_STORE);
  /** Why nothing is trusted (missing or invalid trust file); appended to every refusal. */
  problem: Refusal | undefined;

  constructor(private readonly options: Pick<IntegrationServiceOptions, 'trustFile' | 'revocations'>) {}

  /** The trust store with the hub's revocation list (and the key that signs it) applied. */
  private async compile(store: unknown): Promise<Trust> {
    const list = await this.options.revocations?.current();
    if (list === undefined || !store || typeof store !== 'object') return loadTrust(store);
    const hubKey = this.options.revocations!.publicKey();
    const hubKeys = ((store as { hubKeys?: Array<{ keyId: string }> }).hubKeys ?? []).filter((k) => k.keyId !== hubKey.keyId);
    return loadTrust({ ...store, hubKeys: [...hubKeys, { keyId: hubKey.keyId, publicKey: hubKey.publicKey }] }, { revocations: list });
  }

  /** Re-reads the trust file (every load, install and approval: a key removed since stops counting at once). */
  async read(): Promise<void> {
    const file = this.options.trustFile;
    if (!existsSync(file)) {
      this.current = await this.compile(EMPTY_TRUST_STORE);
      this.problem = {
        code: 'SONDE_ERR_PACK_UNKNOWN_KEY',
        reason: `no trust store at ${file}, so no publisher is trusted: create it with \`sonde-registry trust init --out ${file}\`, trust the publisher with \`sonde-registry trust add-key ${file} --key <publisher.pub.json> --allow '<pack>'\`, then POST /api/v1/integrations/reload`,
      };
      return;
    }
    try {
      this.current = await this.compile(await readJsonFile(file, 'SONDE_ERR_TRUST_INVALID'));
      this.problem = undefined;
    } catch (error) {
      this.current = loadTrust(EMPTY_TRUST_STORE);
      const message = error instanceof Error ? error.message : String(error);
      this.problem = {
        code: isRegistryError(error) ? error.code : 'SONDE_ERR_TRUST_INVALID',
        reason: `the trust store ${file} is not usable (${message}); every integration pack is refused until it is fixed`,
      };
    }
  }

  /** A refusal, with the trust store's problem when that is the cause. */
  withHint(refusal: Refusal): Refusal {
    if (!this.problem) return refusal;
    if (this.problem.code === 'SONDE_ERR_TRUST_INVALID') return this.problem;
    if (refusal.code === 'SONDE_ERR_PACK_UNKNOWN_KEY' || refusal.code === 'SONDE_ERR_PACK_NOT_ALLOWED')
      return { ...refusal, reason: `${refusal.reason}; ${this.problem.reason}` };
    return refusal;
  }
}
