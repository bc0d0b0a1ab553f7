import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER } from '../helpers.js';
import {
  authorizationUrl,
  mcpWith,
  pkcePair,
  registerClient,
  startOAuthHub,
  tokenRequest,
  TestUserAgent,
  type OAuthTestHub,
} from './support.js';

/**
 * Issue 24's negative cases, each an attempt to get or use a token the hub must
 * refuse, plus the client quirks it must accept (unknown scopes, no scope,
 * several redirect URIs, loopback on another port, private-use schemes).
 */

let hub: OAuthTestHub;
const local = { kind: 'local' as const, user: ADMIN_USER, password: ADMIN_PASSWORD };
const REDIRECT = 'http://127.0.0.1:40001/callback';

beforeAll(async () => {
  hub = await startOAuthHub({ SONDE_OAUTH_ACCESS_TOKEN_TTL: '10' });
});
afterAll(() => hub?.close());

async function newClient(redirectUris = [REDIRECT]): Promise<string> {
  const { status, body } = await registerClient(hub.url, {
    client_name: 'negatives',
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body.client_id as string;
}

/** Runs the browser part and returns the code (and the rest of the callback). */
async function codeFor(clientId: string, opts: { redirectUri?: string; scope?: string; resource?: string } = {}) {
  const { verifier, challenge } = pkcePair();
  const redirectUri = opts.redirectUri ?? REDIRECT;
  const agent = new TestUserAgent(hub.url);
  const callback = await agent.authorize(
    authorizationUrl(hub.url, { clientId, redirectUri, challenge, scope: opts.scope, resource: opts.resource ?? `${hub.url}/mcp` }),
    local,
  );
  return { callback, code: callback.searchParams.get('code'), verifier, redirectUri, agent };
}

async function redeem(clientId: string, code: string, verifier: string, redirectUri = REDIRECT) {
  return tokenRequest(hub.url, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
  });
}

describe('refused', () => {
  it('a code with the wrong PKCE verifier', async () => {
    const clientId = await newClient();
    const { code } = await codeFor(clientId);
    const answer = await redeem(clientId, code!, pkcePair().verifier);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
  });

  it('a code used twice, and the tokens of the first use with it (the grant is revoked)', async () => {
    const clientId = await newClient();
    const { code, verifier } = await codeFor(clientId);
    const first = await redeem(clientId, code!, verifier);
    expect(first.status).toBe(200);
    expect((await mcpWith(`${hub.url}/mcp`, first.body.access_token as string)).status).toBe(200);
    const second = await redeem(clientId, code!, verifier);
    expect(second.body.error).toBe('invalid_grant');
    expect((await mcpWith(`${hub.url}/mcp`, first.body.access_token as string)).status).toBe(401);
    // Both token requests are in the audit, before their answers: the grant and the replay, with user and client.
    const tokens = (await hub.app.core.store.audit.query({ limit: 500 })).filter(
      (e) => e.action === 'oauth.token' && e.clientId === clientId,
    );
    expect(tokens.map((e) => e.status).sort()).toEqual(['denied', 'ok']);
    expect(tokens.find((e) => e.status === 'ok')).toMatchObject({
      actor: { kind: 'user', name: ADMIN_USER },
      params: { grantType: 'authorization_code' },
    });
    expect(tokens.find((e) => e.status === 'denied')?.params).toMatchObject({ grantType: 'authorization_code', error: 'invalid_grant' });
  });

  it('an authorization without PKCE, or with the plain method', async () => {
    const clientId = await newClient();
    const url = authorizationUrl(hub.url, { clientId, redirectUri: REDIRECT, challenge: 'x'.repeat(43) });
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const response = await fetch(url, { redirect: 'manual' });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    url.searchParams.set('code_challenge', 'x'.repeat(43));
    url.searchParams.set('code_challenge_method', 'plain');
    const plain = await fetch(url, { redirect: 'manual' });
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('a redirect URI that was not registered (no redirect happens to it)', async () => {
    const clientId = await newClient();
    const url = authorizationUrl(hub.url, { clientId, redirectUri: 'https://attacker.example/cb', challenge: pkcePair().challenge });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri');
  });

  it('javascript:, data: and http to a non-loopback host as redirect URIs at registration', async () => {
    for (const uri of ['javascript:alert(1)', 'data:text/html,hi', 'http://evil.example/cb']) {
      const { status, body } = await registerClient(hub.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(status, uri).toBe(400);
      expect(body.error).toBe('invalid_redirect_uri');
    }
  });

  it('a token for another resource: not issued, and a token of this hub is refused by another hub', async () => {
    const clientId = await newClient();
    const url = authorizationUrl(hub.url, {
      clientId,
      redirectUri: REDIRECT,
      challenge: pkcePair().challenge,
      resource: 'https://other.example/mcp',
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');

    const other = await startOAuthHub();
    try {
      const { code, verifier } = await codeFor(clientId);
      const { body } = await redeem(clientId, code!, verifier);
      const answer = await mcpWith(`${other.url}/mcp`, body.access_token as string);
      expect(answer.status).toBe(401);
      expect(answer.challenge).toContain('error="invalid_token"');
    } finally {
      await other.close();
    }
  });

  it('an expired access token (the challenge says invalid_token); the refresh token still works', async () => {
    const clientId = await newClient();
    const { code, verifier } = await codeFor(clientId);
    const { body } = await redeem(clientId, code!, verifier);
    expect(body.expires_in).toBe(10);
    const token = body.access_token as string;
    expect((await mcpWith(`${hub.url}/mcp`, token)).status).toBe(200);
    // Waits for the condition (expiry), polling; no fixed sleep.
    await expect.poll(async () => (await mcpWith(`${hub.url}/mcp`, token)).status, { timeout: 20_000, interval: 500 }).toBe(401);
    const refreshed = await tokenRequest(hub.url, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    expect((await mcpWith(`${hub.url}/mcp`, refreshed.body.access_token as string)).status).toBe(200);
  }, 30_000);

  it('a refresh token after revocation (RFC 7009), and a rotated refresh token reused', async () => {
    const clientId = await newClient();
    const { code, verifier } = await codeFor(clientId);
    const { body } = await redeem(clientId, code!, verifier);
    const rotated = await tokenRequest(hub.url, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: body.refresh_token as string,
    });
    expect(rotated.body.refresh_token).not.toBe(body.refresh_token);
    const reuse = await tokenRequest(hub.url, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: body.refresh_token as string,
    });
    expect(reuse.body.error).toBe('invalid_grant');

    const fresh = await codeFor(clientId);
    const tokens = (await redeem(clientId, fresh.code!, fresh.verifier)).body;
    const revoke = await fetch(`${hub.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token as string, client_id: clientId }).toString(),
    });
    expect(revoke.status).toBe(200);
    const after = await tokenRequest(hub.url, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: tokens.refresh_token as string,
    });
    expect(after.body.error).toBe('invalid_grant');
  });

  it('every token of a user who is disabled, at once', async () => {
    const store = hub.app.core.store;
    const clientId = await newClient();
    const { code, verifier } = await codeFor(clientId);
    const { body } = await redeem(clientId, code!, verifier);
    expect((await mcpWith(`${hub.url}/mcp`, body.access_token as string)).status).toBe(200);
    const admin = (await store.users.getByName(ADMIN_USER))!;
    await store.users.upsert({ ...admin, enabled: false });
    try {
      expect((await mcpWith(`${hub.url}/mcp`, body.access_token as string)).status).toBe(401);
      const refreshed = await tokenRequest(hub.url, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: body.refresh_token as string,
      });
      expect(refreshed.body.error).toBe('invalid_grant');
    } finally {
      await store.users.upsert({ ...admin, enabled: true });
    }
  });

  it('the tokens of a removed client, and those of a withdrawn consent', async () => {
    const clientId = await newClient();
    const { code, verifier } = await codeFor(clientId);
    const { body } = await redeem(clientId, code!, verifier);
    const removed = await fetch(`${hub.url}/api/v1/oauth/clients/${encodeURIComponent(clientId)}`, {
      method: 'DELETE',
      headers: hub.auth(),
    });
    expect(removed.status).toBe(200);
    expect((await mcpWith(`${hub.url}/mcp`, body.access_token as string)).status).toBe(401);

    const other = await newClient();
    const again = await codeFor(other);
    const tokens = (await redeem(other, again.code!, again.verifier)).body;
    const consents = (await (await fetch(`${hub.url}/api/v1/oauth/consents`, { headers: hub.auth() })).json()) as {
      consents: Array<{ id: string; clientId: string; scopes: string[] }>;
    };
    const consent = consents.consents.find((c) => c.clientId === other)!;
    expect(consent.scopes).toContain('mcp');
    const withdrawn = await fetch(`${hub.url}/api/v1/oauth/consents/${consent.id}`, { method: 'DELETE', headers: hub.auth() });
    expect(withdrawn.status).toBe(204);
    expect((await mcpWith(`${hub.url}/mcp`, tokens.access_token as string)).status).toBe(401);
  });
  it('a scoped admin key (limited to some agents) cannot list, withdraw or remove other users’ consents and clients', async () => {
    const clientId = await newClient();
    await codeFor(clientId, { redirectUri: REDIRECT });
    const all = (await (await fetch(`${hub.url}/api/v1/oauth/consents`, { headers: hub.auth() })).json()) as {
      consents: Array<{ id: string; clientId: string }>;
    };
    const consent = all.consents.find((c) => c.clientId === clientId)!;
    const scoped = (await hub.app.core.apiKeys.create({ name: 'scoped-admin', role: 'admin', policy: { allowedAgents: ['prod-*'] } }))
      .rawKey;
    expect((await fetch(`${hub.url}/api/v1/oauth/consents`, { headers: hub.auth(scoped) })).status).toBe(403);
    const withdraw = await fetch(`${hub.url}/api/v1/oauth/consents/${consent.id}`, { method: 'DELETE', headers: hub.auth(scoped) });
    expect(withdraw.status).toBe(404);
    const remove = await fetch(`${hub.url}/api/v1/oauth/clients/${encodeURIComponent(clientId)}`, {
      method: 'DELETE',
      headers: hub.auth(scoped),
    });
    expect(remove.status).toBe(403);
    // A member key is no user either.
    expect((await fetch(`${hub.url}/api/v1/oauth/consents`, { headers: hub.auth(hub.memberKey) })).status).toBe(403);
  });
});

describe('accepted quirks', () => {
  it('unknown scopes are ignored (Claude sends claudeai), a missing scope means mcp (ChatGPT on reconnect)', async () => {
    const clientId = await newClient();
    for (const scope of ['claudeai mcp', 'claudeai', undefined]) {
      const { code, verifier } = await codeFor(clientId, { scope });
      const { status, body } = await redeem(clientId, code!, verifier);
      expect(status, String(scope)).toBe(200);
      expect(String(body.scope).split(' ')).toContain('mcp');
      expect((await mcpWith(`${hub.url}/mcp`, body.access_token as string)).status).toBe(200);
    }
  });

  it('several redirect URIs (Cursor), claude.ai and claude.com callbacks, VS Code on a random loopback port, a private-use scheme', async () => {
    const clientId = await newClient([
      'https://claude.ai/api/mcp/auth_callback',
      'https://claude.com/api/mcp/auth_callback',
      'http://127.0.0.1:33418/',
      'cursor://anysphere.cursor-retrieval/oauth/user-sonde/callback',
    ]);
    for (const redirectUri of [
      'https://claude.com/api/mcp/auth_callback',
      'http://127.0.0.1:51234/',
      'cursor://anysphere.cursor-retrieval/oauth/user-sonde/callback',
    ]) {
      const { callback, code, verifier } = await codeFor(clientId, { redirectUri });
      expect(callback.href.startsWith(redirectUri), callback.href).toBe(true);
      expect(callback.searchParams.get('iss')).toBe(hub.url);
      expect((await redeem(clientId, code!, verifier, redirectUri)).status).toBe(200);
    }
  });

  it('remembers consent per user and client with a claimed https redirect; asks every time for a loopback one (RFC 8252 §8.6)', async () => {
    const claimed = 'https://claude.ai/api/mcp/auth_callback';
    const clientId = await newClient([claimed, REDIRECT]);
    const first = await codeFor(clientId, { redirectUri: claimed });
    expect(first.agent.pages.some((p) => p.includes('id="consent"'))).toBe(true);
    const second = await codeFor(clientId, { redirectUri: claimed });
    expect(second.agent.pages.some((p) => p.includes('id="consent"'))).toBe(false);
    expect(second.code).toBeTruthy();
    const loopback = await codeFor(clientId);
    expect(loopback.agent.pages.some((p) => p.includes('id="consent"'))).toBe(true);
  });
});
