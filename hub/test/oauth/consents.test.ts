import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER, TEST_SECRET } from '../helpers.js';
import { runCli } from '../process.js';
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
 * Consents (connected apps) seen and withdrawn from the command line (`sonde-hub oauth consents list|revoke`, on the
 * database while the hub runs) and through the REST routes, which share hub/src/oauth/consents.ts: a withdrawal ends
 * the client's tokens at once and is one audit entry.
 */
const REDIRECT = 'https://app.example.com/callback';
let hub: OAuthTestHub;

beforeAll(async () => {
  hub = await startOAuthHub();
});
afterAll(() => hub?.close());

const adminEnv = () => ({ SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: path.join(hub.dir, 'sonde.db') });

/** A registered client the admin user consented to, and its access token. */
async function consentedClient(name: string): Promise<{ clientId: string; accessToken: string }> {
  const registered = await registerClient(hub.url, { client_name: name, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
  expect(registered.status).toBe(201);
  const clientId = registered.body.client_id as string;
  const { verifier, challenge } = pkcePair();
  const callback = await new TestUserAgent(hub.url).authorize(
    authorizationUrl(hub.url, { clientId, redirectUri: REDIRECT, challenge, resource: `${hub.url}/mcp` }),
    { kind: 'local', user: ADMIN_USER, password: ADMIN_PASSWORD },
  );
  const token = await tokenRequest(hub.url, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
  });
  expect(token.status).toBe(200);
  return { clientId, accessToken: token.body.access_token as string };
}

describe('sonde-hub oauth consents', () => {
  it('lists the consent with its client and user, revokes it (tokens end, audited), and a second revoke is not found', async () => {
    const { clientId, accessToken } = await consentedClient('Ops assistant');
    expect((await mcpWith(`${hub.url}/mcp`, accessToken)).status).toBe(200);

    const listed = await runCli(['oauth', 'consents', 'list', '--user', ADMIN_USER, '--json'], adminEnv());
    expect(listed.code, listed.stderr).toBe(0);
    const consents = JSON.parse(listed.stdout) as Array<{ id: string; clientId: string; clientName: string; scopes: string[] }>;
    const consent = consents.find((c) => c.clientId === clientId)!;
    expect(consent).toMatchObject({ clientName: 'Ops assistant' });
    expect(consent.scopes).toContain('mcp');
    const text = await runCli(['oauth', 'consents', 'list'], adminEnv());
    expect(text.stdout).toContain(`${consent.id}  ${ADMIN_USER}  Ops assistant (${clientId})  mcp`);

    const revoked = await runCli(['oauth', 'consents', 'revoke', consent.id], adminEnv());
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked consent ${consent.id} (Ops assistant)`);
    expect((await mcpWith(`${hub.url}/mcp`, accessToken)).status).toBe(401);
    const entries = (await hub.app.core.store.audit.query({ limit: 20 })).filter((e) => e.action === 'oauth.consent.revoke');
    expect(entries.at(-1)).toMatchObject({ actor: { kind: 'cli' }, clientId, status: 'ok' });

    const again = await runCli(['oauth', 'consents', 'revoke', consent.id], adminEnv());
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('SONDE_ERR_NOT_FOUND');
    expect((await runCli(['oauth', 'consents', 'list', '--user', 'nobody'], adminEnv())).code).toBe(4);
  });

  it('REST: the signed-in user sees and withdraws their own consent; the client name comes from its registration', async () => {
    const { clientId, accessToken } = await consentedClient('Chat connector');
    const listed = (await (await fetch(`${hub.url}/api/v1/oauth/consents`, { headers: hub.auth() })).json()) as {
      consents: Array<{ id: string; clientId: string; clientName: string | null }>;
    };
    const consent = listed.consents.find((c) => c.clientId === clientId)!;
    expect(consent.clientName).toBe('Chat connector');
    const withdrawn = await fetch(`${hub.url}/api/v1/oauth/consents/${consent.id}`, { method: 'DELETE', headers: hub.auth() });
    expect(withdrawn.status).toBe(204);
    expect((await mcpWith(`${hub.url}/mcp`, accessToken)).status).toBe(401);
    expect((await fetch(`${hub.url}/api/v1/oauth/consents/${consent.id}`, { method: 'DELETE', headers: hub.auth() })).status).toBe(404);
    const entries = (await hub.app.core.store.audit.query({ limit: 20 })).filter((e) => e.action === 'oauth.consent.revoke');
    expect(entries.at(-1)).toMatchObject({ actor: { kind: 'api_key' }, clientId });
  });
});
