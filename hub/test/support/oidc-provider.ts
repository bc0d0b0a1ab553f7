import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A real OpenID Connect provider (oidc-provider 9) in its own process on
 * loopback, for sign-in tests (identity, and the MCP authorization tests).
 * A test logs a user in through a test-only interaction route that calls
 * oidc-provider's `interactionFinished`: no HTML is scraped.
 */

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  grant_types?: string[];
  response_types?: string[];
  token_endpoint_auth_method?: string;
}

export interface TestAccount {
  accountId: string;
  /** Claims the provider puts in the ID token (sub is the accountId). */
  claims?: Record<string, unknown>;
}

export interface TestProvider {
  issuer: string;
  origin: string;
  /**
   * What a browser does between the hub's redirect and the provider's redirect back:
   * follows the authorization URL, signs `account` in, and returns the URL the
   * provider sends the browser to (the client's callback, with code and state).
   */
  login(authorizationUrl: string, account: TestAccount): Promise<URL>;
  /** The next token response carries an ID token re-signed with these claims changed (null deletes), or signed by a key the provider never published. */
  tamperNextIdToken(change: { set?: Record<string, unknown>; otherKey?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./oidc-provider-server.mjs', import.meta.url));

export async function startOidcProvider(options: {
  clients: TestClient[];
  /** Serve the issuer under a path, e.g. `/<tenant>/v2.0` to stand in for Entra. */
  mountPath?: string;
  extraScopes?: string[];
  idTokenTtl?: number;
}): Promise<TestProvider> {
  const child: ChildProcess = spawn(process.execPath, [SERVER, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = /^\{"issuer":.*\}$/m.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line[0]) as { issuer: string }).issuer);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oidc-provider exited with ${code}:\n${output}`));
    });
  });
  const origin = new URL(issuer).origin;

  return {
    issuer,
    origin,
    async login(authorizationUrl, account) {
      const jar = new Map<string, string>();
      const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const remember = (response: Response) => {
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') jar.delete(name);
          else jar.set(name, value);
        }
      };
      let next = new URL(authorizationUrl);
      for (let hop = 0; hop < 12; hop++) {
        if (next.origin !== origin) return next;
        let response: Response;
        if (/\/interaction\/[^/]+$/.test(next.pathname)) {
          const details = await fetch(next, { headers: { cookie: cookieHeader() } });
          const prompt = (await details.json()) as { prompt?: string; error?: string };
          if (prompt.prompt !== 'login') throw new Error(`unexpected interaction: ${JSON.stringify(prompt)}`);
          response = await fetch(next, {
            method: 'POST',
            redirect: 'manual',
            headers: { cookie: cookieHeader(), 'content-type': 'application/json' },
            body: JSON.stringify({ accountId: account.accountId, claims: account.claims ?? {} }),
          });
        } else {
          response = await fetch(next, { redirect: 'manual', headers: { cookie: cookieHeader() } });
        }
        remember(response);
        const location = response.headers.get('location');
        if (!location) throw new Error(`provider answered ${response.status} without a redirect: ${await response.text()}`);
        next = new URL(location, next);
      }
      throw new Error('too many redirects at the provider');
    },
    async tamperNextIdToken(change) {
      const response = await fetch(`${origin}/__test/next-id-token`, { method: 'POST', body: JSON.stringify(change) });
      if (response.status !== 204) throw new Error(`tamper request failed: ${response.status}`);
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
