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
import type { SettingsStore } from '../store/types.js';

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
    private readonly settings: SettingsStore,
    private readonly audit: AuditLog,
  ) {
    this.key = keyPairFromSeed(new Uint8Array(seed));
  }

  /** What `sonde trust add-key --role hub` takes, and what enrollment hands to agents. */
  publicKey(): PublicKeyFile {
    return { type: 'sonde-ed25519-public-key', keyId: this.key.keyId, publicKey: this.key.publicKey, publisher: 'sonde-hub revocations' };
  }

  current(): RevocationList | undefined {
    const raw = this.settings.get(LIST_SETTING);
    if (!raw) return undefined;
    const parsed = RevocationListSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Called with every new list (the gateway pushes it to connected agents). */
  onChange(listener: (list: RevocationList) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  revoke(add: { keys?: RevokedKey[]; packs?: RevokedPack[] }, actor: RevocationActor): RevocationList {
    const list = extendRevocationList(this.current(), add, this.key);
    this.settings.set(LIST_SETTING, JSON.stringify(list));
    const what = [
      ...(add.keys ?? []).map((key) => `key ${key.keyId}`),
      ...(add.packs ?? []).map((pack) => `${pack.pack}@${pack.versions}`),
    ].join(', ');
    this.audit.append({
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
