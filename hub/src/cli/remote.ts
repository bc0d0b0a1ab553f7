import { ConfigError } from '../config.js';
import { hubUrlForCli, hubUrlFromName, withCore } from './admin.js';
import { RemoteHubError } from './remote-error.js';

/**
 * The commands that need the running hub, not only its database: approving a
 * pack goes to the agent over its live connection, and an integration pack
 * is loaded by the hub process. They call the hub's REST API with an admin
 * key, so the hub checks, applies and audits them exactly as it does for the
 * dashboard; the CLI holds no second implementation.
 */
export interface RemoteHub {
  url: string;
  request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface RemoteOptions {
  hubUrl?: string;
}

const KEY_HELP =
  'set SONDE_API_KEY to an admin API key (sonde-hub keys create --name ops --role admin prints one); this command acts through the running hub';

/** The hub's URL (--hub-url, SONDE_PUBLIC_URL, else the address the hub recorded at its last start) and the key from SONDE_API_KEY. */
export async function remoteHub(options: RemoteOptions, json: boolean): Promise<RemoteHub> {
  const key = process.env.SONDE_API_KEY?.trim();
  if (!key) throw new ConfigError([KEY_HELP]);
  // With an address named, the database is not needed (the CLI may run on another machine than the hub).
  const named = options.hubUrl ?? process.env.SONDE_PUBLIC_URL;
  const { url } = named
    ? hubUrlFromName(named, options.hubUrl ? '--hub-url' : 'SONDE_PUBLIC_URL')
    : await withCore(json, (core) => hubUrlForCli(core, undefined));
  return {
    url,
    async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        const inner = (error as { cause?: { code?: string; message?: string } }).cause;
        const cause = inner?.code ?? inner?.message ?? (error as Error).message;
        throw new RemoteHubError(
          'SONDE_ERR_HUB_UNREACHABLE',
          `no answer from the hub at ${url} (${cause}): is it running? (--hub-url names another address)`,
          0,
        );
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        throw new RemoteHubError(
          'SONDE_ERR_HUB_UNREACHABLE',
          `${url} answered ${res.status} with something that is not the Sonde API`,
          res.status,
        );
      }
      if (res.ok) return parsed as T;
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      if (res.status === 401)
        throw new RemoteHubError(
          'SONDE_ERR_UNAUTHORIZED',
          `the hub at ${url} refused SONDE_API_KEY: ${error?.message ?? 'not a valid key'}`,
          401,
        );
      throw new RemoteHubError(error?.code ?? 'SONDE_ERR_INTERNAL', error?.message ?? `the hub answered ${res.status}`, res.status);
    },
  };
}
