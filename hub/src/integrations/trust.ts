import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isRegistryError, loadTrust, type Trust } from '@sonde/registry';
import { SYSTEM, type IntegrationDeps, type IntegrationServiceOptions } from './context.js';
import type { Refusal } from './types.js';

const EMPTY_TRUST_STORE = { type: 'sonde-trust-store', keys: [] };

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The trust store the hub verifies integration packs against, with the hub's own signed revocation list applied on
 * top, and why nothing is trusted when there is none or it is unusable.
 *
 * The trust store is shared state (the store's `integration_trust`, one document for the deployment), so a publisher
 * trusted through one hub is trusted by every hub at its next load (several hubs: a change announces itself over the
 * cluster, which makes the others load). The file `SONDE_TRUST_FILE` stays the way to change it, as an import path:
 * at every read (hub start, reload, install, approval) a file whose contents differ from what was last read from that
 * file (per host and path, remembered in the store) replaces the shared document, audited as
 * `integration.trust.import`. So an edit made with `sonde-registry trust` on any hub's file reaches every hub, and a
 * hub restarting with a copy nobody edited never undoes a change made elsewhere. A file seen for the first time while
 * the deployment already has a trust store is only remembered (a hub joining with an old copy changes nothing; the
 * first hub of an existing deployment imports its file). A trust file that does not parse is not imported; the stored
 * document keeps applying and the problem is reported.
 */
export class IntegrationTrust {
  current: Trust = loadTrust(EMPTY_TRUST_STORE);
  /** Why nothing (or not this hub's file) is trusted; appended to refusals, shown by `GET …/integrations/status`. */
  problem: Refusal | undefined;
  /** The shared document's revision this hub last compiled (0: none stored). */
  revision = 0;
  /** Whether a stored trust store applies (else every pack is refused for the `problem`). */
  private usable = false;
  /** Told when this hub replaced the shared trust store (the service tells the other hubs). */
  onImported: (() => void) | undefined;
  private readonly source: string;

  constructor(
    private readonly options: Pick<IntegrationServiceOptions, 'trustFile' | 'revocations' | 'store' | 'log'>,
    private readonly audit: IntegrationDeps['audit'],
  ) {
    this.source = `${os.hostname()}:${options.trustFile}`;
  }

  /** The trust store with the hub's revocation list (and the key that signs it) applied. */
  private async compile(store: unknown): Promise<Trust> {
    const list = await this.options.revocations?.current();
    if (list === undefined || !store || typeof store !== 'object') return loadTrust(store);
    const hubKey = this.options.revocations!.publicKey();
    const hubKeys = ((store as { hubKeys?: Array<{ keyId: string }> }).hubKeys ?? []).filter((k) => k.keyId !== hubKey.keyId);
    return loadTrust({ ...store, hubKeys: [...hubKeys, { keyId: hubKey.keyId, publicKey: hubKey.publicKey }] }, { revocations: list });
  }

  /** Imports the trust file if it changed, then compiles the shared trust store (every load, install and approval). */
  async read(): Promise<void> {
    const fileProblem = await this.importFile();
    const { store } = this.options;
    const stored = await store.integrations.getTrust();
    this.revision = stored?.revision ?? 0;
    const file = this.options.trustFile;
    if (!stored) {
      this.current = await this.compile(EMPTY_TRUST_STORE);
      this.usable = false;
      this.problem = fileProblem ?? {
        code: 'SONDE_ERR_PACK_UNKNOWN_KEY',
        reason: `no trust store at ${file}, so no publisher is trusted: create it with \`sonde-registry trust init --out ${file}\`, trust the publisher with \`sonde-registry trust add-key ${file} --key <publisher.pub.json> --allow '<pack>'\`, then POST /api/v1/integrations/reload`,
      };
      return;
    }
    try {
      this.current = await this.compile(JSON.parse(stored.document));
      this.usable = true;
      this.problem = fileProblem;
    } catch (error) {
      this.current = loadTrust(EMPTY_TRUST_STORE);
      this.usable = false;
      this.problem = {
        code: isRegistryError(error) ? error.code : 'SONDE_ERR_TRUST_INVALID',
        reason: `the shared trust store (revision ${stored.revision}, from ${stored.updatedBy}) is not usable (${messageOf(error)}); every integration pack is refused until a valid trust file is imported`,
      };
    }
  }

  /** The trust file into the shared store when it changed since it was last read; a problem when it does not load. */
  private async importFile(): Promise<Refusal | undefined> {
    const file = this.options.trustFile;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.invalid(file, error);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { store } = this.options;
    if ((await store.integrations.getTrustSource(this.source)) === sha256) return undefined;
    const document = bytes.toString('utf8');
    try {
      loadTrust(JSON.parse(document)); // never store what would not load
    } catch (error) {
      return this.invalid(file, error);
    }
    const at = new Date().toISOString();
    const imported = await store.transaction(async (tx) => {
      // Read again inside the transaction: hubs on one host share the file, and the first one imports it.
      const last = await tx.integrations.getTrustSource(this.source);
      if (last === sha256) return undefined;
      await tx.integrations.setTrustSource(this.source, sha256, at);
      const stored = await tx.integrations.getTrust();
      // First sight of this file in a deployment that has a trust store: remembered, not imported (see the class).
      if (last === undefined && stored) return stored.document === document ? undefined : { adopted: stored.revision };
      if (stored?.document === document) return undefined;
      const revision = await tx.integrations.putTrust(document, at, `${this.source}`);
      await this.audit(
        SYSTEM,
        { action: 'integration.trust.import', status: 'ok', params: { file, host: os.hostname(), sha256, revision } },
        tx,
      );
      return { revision };
    });
    if (imported && 'adopted' in imported) {
      this.options.log.warn(
        { file, revision: imported.adopted },
        'the trust file differs from the shared trust store, which applies; an edit of this file will be imported',
      );
    } else if (imported) {
      this.options.log.info({ file, revision: imported.revision }, 'trust file imported into the shared trust store');
      this.onImported?.();
    }
    return undefined;
  }

  private invalid(file: string, error: unknown): Refusal {
    return {
      code: isRegistryError(error) ? error.code : 'SONDE_ERR_TRUST_INVALID',
      reason: `the trust file ${file} is not usable (${messageOf(error)}), so it was not imported`,
    };
  }

  /** A refusal, with the trust store's problem when that is the cause. */
  withHint(refusal: Refusal): Refusal {
    if (!this.problem) return refusal;
    if (!this.usable && this.problem.code === 'SONDE_ERR_TRUST_INVALID') return this.problem;
    if (refusal.code === 'SONDE_ERR_PACK_UNKNOWN_KEY' || refusal.code === 'SONDE_ERR_PACK_NOT_ALLOWED')
      return { ...refusal, reason: `${refusal.reason}; ${this.problem.reason}` };
    return refusal;
  }
}
