import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startTestHub, type TestHub } from '../helpers.js';
import type { TestProvider } from '../support/oidc-provider.js';

export interface OAuthTestHub extends TestHub {
  url: string;
}

/** A loopback port free right now (for a hub whose URL another server must know before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An in-process hub listening on a loopback port (the OAuth issuer is its URL). */
export async function startOAuthHub(env: Record<string, string> = {}, port = 0): Promise<OAuthTestHub> {
  const hub = await startTestHub(env);
  try {
    await hub.app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await hub.close();
    throw error;
  }
  return Object.assign(hub, { url: hub.app.sonde.config.publicUrl });
}

/**
 * What an MCP client keeps (an OAuthClientProvider for the SDK's `auth()`), in
 * memory: registration, PKCE verifier, tokens, and the authorization URL the
 * SDK asks the user's browser to open.
 */
export class MemoryAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  constructor(
    readonly redirectUrl: string,
    readonly clientMetadata: OAuthClientMetadata,
    readonly clientMetadataUrl?: string,
  ) {}
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

export function clientMetadata(redirectUrl: string, name = 'OAuth test client'): OAuthClientMetadata {
  return {
    client_name: name,
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

export type Login =
  | { kind: 'local'; user: string; password: string }
  | { kind: 'sso'; provider: TestProvider; accountId: string; claims?: Record<string, unknown> };

/**
 * A headless user agent: follows the hub's redirects with a cookie jar, fills
 * in the hub's login form (or follows "Sign in with …" through the upstream
 * provider) and allows on the consent page, and stops at the first redirect
 * that leaves the hub: the client's redirect URI with `code`, `state` and `iss`.
 */
export class TestUserAgent {
  readonly jar = new Map<string, string>();
  /** Pages seen on the way, for assertions (consent text, login errors). */
  readonly pages: string[] = [];
  constructor(readonly hubOrigin: string) {}

  private cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded', origin: this.hubOrigin } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.remember(response);
    return response;
  }

  /** Runs the browser part of an authorization; `consent` is what the user clicks. */
  async authorize(start: URL, login: Login, consent: 'allow' | 'deny' = 'allow'): Promise<URL> {
    let next = start;
    let form: Record<string, string> | undefined;
    for (let hop = 0; hop < 20; hop++) {
      if (next.origin !== this.hubOrigin) {
        if (login.kind === 'sso' && next.origin === login.provider.origin) {
          next = await login.provider.login(next.href, { accountId: login.accountId, claims: login.claims });
          continue;
        }
        return next;
      }
      const response = await this.request(next, { form });
      form = undefined;
      const location = response.headers.get('location');
      if (location) {
        next = new URL(location, next);
        continue;
      }
      const page = await response.text();
      this.pages.push(page);
      if (response.status !== 200) throw new Error(`hub answered ${response.status} at ${next.pathname}: ${page.slice(0, 400)}`);
      const action = (id: string) => {
        const match = new RegExp(`<form method="post" action="([^"]+)" id="${id}">`).exec(page);
        return match ? new URL(match[1].replace(/&amp;/g, '&'), next) : undefined;
      };
      const sso = /<a class="button" id="sso" href="([^"]+)">/.exec(page);
      if (action('login')) {
        if (login.kind === 'sso') {
          if (!sso) throw new Error('the login page offers no single sign-on');
          const refused = /<p class="error" role="alert">([^<]*)<\/p>/.exec(page);
          if (refused) throw new Error(`single sign-on refused: ${refused[1]}`);
          next = new URL(sso[1].replace(/&amp;/g, '&'), next);
        } else {
          next = action('login')!;
          form = { user: login.user, password: login.password };
        }
        continue;
      }
      if (action('consent')) {
        next = action('consent')!;
        form = { decision: consent };
        continue;
      }
      throw new Error(`unexpected page at ${next.pathname}: ${page.slice(0, 400)}`);
    }
    throw new Error('too many redirects');
  }
}

/** The SDK client's whole OAuth flow against `mcpUrl`: bare 401, discovery, registration, browser, token; then connected. */
export async function connectWithOAuth(
  mcpUrl: string,
  provider: MemoryAuthProvider,
  agent: TestUserAgent,
  login: Login,
): Promise<{ client: Client; callback: URL }> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const probe = new Client({ name: 'oauth-test', version: '1.0.0' });
  await probe.connect(first).then(
    () => {
      throw new Error('connected without authorization');
    },
    (error: unknown) => {
      if (!provider.authorizationUrl) throw error;
    },
  );
  const callback = await agent.authorize(provider.authorizationUrl!, login);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  await first.finishAuth(code);
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return { client, callback };
}

/** Plain OAuth calls, for the negative cases the SDK would never make. */
export async function registerClient(
  hubUrl: string,
  metadata: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${hubUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizationUrl(
  hubUrl: string,
  p: { clientId: string; redirectUri: string; challenge: string; scope?: string; resource?: string; state?: string },
): URL {
  const url = new URL(`${hubUrl}/oauth/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('code_challenge', p.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', p.state ?? 'state-1');
  if (p.scope !== undefined) url.searchParams.set('scope', p.scope);
  if (p.resource !== undefined) url.searchParams.set('resource', p.resource);
  return url;
}

export async function tokenRequest(
  hubUrl: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${hubUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** tools/list with a Bearer token: the HTTP status and challenge. */
export async function mcpWith(url: string, token: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}
