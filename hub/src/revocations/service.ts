import {
  RevocationListSchema,
  extendRevocationList,
  keyPairFromSeed,
  type PublicKeyFile,
  type RevocationList,
  type RevokedKey,
  type RevokedPack,
  type SigningKey,
} from '@sonde/registry';
import type { AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';

const LIST_SETTING = 'revocations.list';

export interface RevocationActor {
  kind: 'user' | 'api_key' | 'system';
  id: string | null;
  name: string;
}

/**
 * The hub holds the organisation's revocation list (publisher keys and pack
 * versions) and signs it with an Ed25519 key derived from SONDE_SECRET, so
 * every hub sharing the secret and the database signs the same way and no
 * key is stored. Agents pin the public half at enrollment, accept only newer
 * lists and check them at every load; a list is never inside a pack.
 */
export class RevocationService {
  private readonly key: SigningKey;
  private readonly listeners = new Set<(list: RevocationList) => void>();

  constructor(
    seed: Buffer,
    private readonly store: Pick<HubStore, 'settings' | 'transaction'>,
    private readonly audit: AuditLog,
  ) {
    this.key = keyPairFromSeed(new Uint8Array(seed));
  }

  /** What `sonde trust add-key --role hub` takes, and what enrollment hands to agents. */
  publicKey(): PublicKeyFile {
    return { type: 'sonde-ed25519-public-key', keyId: this.key.keyId, publicKey: this.key.publicKey, publisher: 'sonde-hub revocations' };
  }

  async current(settings: Pick<HubStore, 'settings'>['settings'] = this.store.settings): Promise<RevocationList | undefined> {
    const raw = await settings.get(LIST_SETTING);
    if (!raw) return undefined;
    const parsed = RevocationListSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Called with every new list (the gateway pushes it to connected agents). */
  onChange(listener: (list: RevocationList) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async revoke(add: { keys?: RevokedKey[]; packs?: RevokedPack[] }, actor: RevocationActor): Promise<RevocationList> {
    // Read and write in one transaction: two revocations at once get serials n+1 and n+2, never the same one.
    const list = await this.store.transaction(async (tx) => {
      const next = extendRevocationList(await this.current(tx.settings), add, this.key);
      await tx.settings.set(LIST_SETTING, JSON.stringify(next));
      return next;
    });
    const what = [
      ...(add.keys ?? []).map((key) => `key ${key.keyId}`),
      ...(add.packs ?? []).map((pack) => `${pack.pack}@${pack.versions}`),
    ].join(', ');
    await this.audit.append({
      action: 'pack.revoke',
      actor,
      agents: [],
      status: 'ok',
      detail: `revocation list serial ${list.serial}: revoked ${what}`.slice(0, 2000),
    });
    for (const listener of this.listeners) listener(list);
    return list;
  }
}
