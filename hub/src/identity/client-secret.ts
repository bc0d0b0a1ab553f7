import type { Sealer } from '../crypto/index.js';
import type { SettingsStore } from '../store/types.js';

/**
 * The OpenID Connect client secret when an admin sets it through the API
 * instead of SONDE_OIDC_CLIENT_SECRET / SONDE_ENTRA_CLIENT_SECRET: sealed with
 * SONDE_SECRET's key before it is stored (AES-GCM, bound to this setting by the
 * sealer's additional data), opened only to talk to the provider's token
 * endpoint, never returned by any route. The environment wins when both exist:
 * a hub configured by its environment is not changed behind its operator's back.
 */
export const CLIENT_SECRET_SETTING = 'identity.oidc_client_secret';

export type ClientSecretSource = 'environment' | 'api' | 'none';

export interface ClientSecrets {
  /** The secret to use now: the environment's, else the stored one, else none (a public client). */
  current(): Promise<string | undefined>;
  source(): Promise<ClientSecretSource>;
  set(secret: string): Promise<void>;
  clear(): Promise<void>;
}

export function createClientSecrets(options: {
  fromEnvironment: string | undefined;
  settings: SettingsStore;
  sealer: Sealer;
}): ClientSecrets {
  const { fromEnvironment, settings, sealer } = options;
  const stored = async (): Promise<string | undefined> => {
    const sealed = await settings.get(CLIENT_SECRET_SETTING);
    return sealed ? sealer.openText(sealed, CLIENT_SECRET_SETTING) : undefined;
  };
  return {
    async current() {
      return fromEnvironment ?? (await stored());
    },
    async source() {
      if (fromEnvironment) return 'environment';
      return (await settings.get(CLIENT_SECRET_SETTING)) ? 'api' : 'none';
    },
    async set(secret) {
      await settings.set(CLIENT_SECRET_SETTING, sealer.seal(secret, CLIENT_SECRET_SETTING));
    },
    async clear() {
      // The settings store has no delete: an empty value reads as none.
      await settings.set(CLIENT_SECRET_SETTING, '');
    },
  };
}
