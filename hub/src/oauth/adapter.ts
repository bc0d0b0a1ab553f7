import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { SealError, type Sealer } from '../crypto/index.js';
import type { OAuthRecordStore } from '../store/types.js';

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/** Expired rows are deleted at most this often (on a write), so the table does not grow with every token ever issued. */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** The sealer's additional data for a registered client's secret: a sealed secret cannot be moved to another client's row. */
export const clientSecretAad = (hashedId: string) => `oauth-client-secret:${hashedId}`;

/**
 * A registered (DCR) confidential client's `client_secret` is sealed at rest like an integration's credentials
 * (AES-256-GCM under a key from SONDE_SECRET, bound to the row); oidc-provider needs the value itself to check
 * `client_secret_basic`/`_post`, so it is opened when the client is loaded, never written back in clear.
 */
function sealClientSecret(payload: AdapterPayload, hashedId: string, sealer: Sealer | undefined): AdapterPayload {
  const secret = (payload as { client_secret?: unknown }).client_secret;
  if (!sealer || typeof secret !== 'string') return payload;
  return { ...payload, client_secret: sealer.seal(secret, clientSecretAad(hashedId)) };
}

function openClientSecret(payload: AdapterPayload, hashedId: string, sealer: Sealer | undefined): AdapterPayload {
  const secret = (payload as { client_secret?: unknown }).client_secret;
  if (!sealer || typeof secret !== 'string') return payload;
  try {
    return { ...payload, client_secret: sealer.openText(secret, clientSecretAad(hashedId)) };
  } catch (error) {
    // A row written before secrets were sealed holds the secret in clear: it still authenticates, and is sealed on its next write.
    if (error instanceof SealError && error.message === 'not a sealed value') return payload;
    throw error;
  }
}

/**
 * oidc-provider's storage adapter over the hub store (`HubStore.oauth`), so the
 * authorization server's state lives in the hub database and several hubs
 * sharing it answer alike. Ids are stored hashed: an access token, refresh token
 * or code is a bearer secret, and its SHA-256 is all the lookup needs. With a
 * sealer, registered clients' secrets are stored sealed (sealClientSecret).
 */
export function storeAdapterFactory(
  store: () => OAuthRecordStore,
  now: () => number = Date.now,
  sealer?: Sealer,
): (name: string) => Adapter {
  let lastSweep = 0;
  const sweep = async () => {
    if (now() - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = now();
    await store().removeExpired(new Date(now()).toISOString());
  };

  return (kind: string): Adapter => {
    const live = async (record: Awaited<ReturnType<OAuthRecordStore['get']>>): Promise<AdapterPayload | undefined> => {
      if (!record) return undefined;
      if (record.expiresAt && Date.parse(record.expiresAt) <= now()) return undefined;
      let payload = JSON.parse(record.payload) as AdapterPayload;
      if (kind === 'Client') payload = openClientSecret(payload, record.id, sealer);
      // oidc-provider reads `consumed` to detect a reused code or a rotated refresh token (and then revokes the grant).
      if (record.consumedAt) payload.consumed = Math.floor(Date.parse(record.consumedAt) / 1000);
      return Promise.resolve(payload);
    };
    return {
      async upsert(id, payload, expiresIn) {
        const p = payload as AdapterPayload & { client_id?: string };
        const hashedId = hash(id);
        await store().put({
          kind,
          id: hashedId,
          payload: JSON.stringify(kind === 'Client' ? sealClientSecret(payload, hashedId, sealer) : payload),
          grantId: p.grantId ?? null,
          userId: p.accountId ?? null,
          clientId: p.clientId ?? (kind === 'Client' ? (p.client_id ?? null) : null),
          uid: p.uid ?? null,
          expiresAt: expiresIn ? new Date(now() + expiresIn * 1000).toISOString() : null,
        });
        await sweep();
      },
      find: async (id) => live(await store().get(kind, hash(id))),
      findByUid: async (uid) => live(await store().getByUid(kind, uid)),
      // Device flow is not enabled.
      findByUserCode: () => Promise.resolve(undefined),
      async consume(id) {
        await store().consume(kind, hash(id), new Date(now()).toISOString());
      },
      async destroy(id) {
        await store().remove(kind, hash(id));
      },
      async revokeByGrantId(grantId) {
        await store().removeWhere({ grantId });
      },
    };
  };
}
