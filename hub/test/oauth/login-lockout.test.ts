import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER } from '../helpers.js';
import { authorizationUrl, pkcePair, registerClient, startOAuthHub, TestUserAgent, type OAuthTestHub } from './support.js';

/**
 * The OAuth sign-in page's lockout follows the dashboard login's rule: failures
 * count per user name *and* source address (and per address), so a guesser
 * elsewhere cannot lock the admin out of OAuth sign-in by typing the admin's
 * name with wrong passwords.
 */
let hub: OAuthTestHub;
const REDIRECT = 'http://127.0.0.1:40002/callback';

beforeAll(async () => {
  hub = await startOAuthHub();
});
afterAll(() => hub?.close());

/** Starts an authorization in a fresh user agent and returns the login form's address and that agent's cookies. */
async function loginForm(): Promise<{ action: URL; cookie: string }> {
  const { body } = await registerClient(hub.url, { client_name: 'lockout', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
  const agent = new TestUserAgent(hub.url);
  let next = authorizationUrl(hub.url, {
    clientId: body.client_id as string,
    redirectUri: REDIRECT,
    challenge: pkcePair().challenge,
    resource: `${hub.url}/mcp`,
  });
  for (let hop = 0; hop < 10; hop++) {
    const response = await agent.request(next);
    const location = response.headers.get('location');
    if (location) {
      next = new URL(location, next);
      continue;
    }
    const page = await response.text();
    const match = /<form method="post" action="([^"]+)" id="login">/.exec(page);
    if (!match) throw new Error(`no login form at ${next.pathname}: ${page.slice(0, 300)}`);
    return { action: new URL(match[1].replace(/&amp;/g, '&'), next), cookie: [...agent.jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  }
  throw new Error('too many redirects');
}

/** Posts the login form from a chosen loopback source address. */
function postLogin(form: { action: URL; cookie: string }, from: string, password: string): Promise<number> {
  const body = new URLSearchParams({ user: ADMIN_USER, password }).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(
      form.action,
      {
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          cookie: form.cookie,
          origin: hub.url,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('OAuth sign-in lockout', () => {
  it('locks the guessing address for that user, not the admin signing in from elsewhere', async () => {
    const guesser = await loginForm();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await postLogin(guesser, '127.0.0.2', 'wrong-password-guess'));
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);

    const admin = await loginForm();
    const status = await postLogin(admin, '127.0.0.3', ADMIN_PASSWORD);
    // Signed in: the hub moves on to consent (a redirect), never "too many failed sign-ins".
    expect(status).not.toBe(429);
    expect(status).toBeGreaterThanOrEqual(300);
    expect(status).toBeLessThan(400);
  });
});
