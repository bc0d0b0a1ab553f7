import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER } from '../helpers.js';
import { loopbackCertificate, startDocumentServer, writeCa, type DocumentServer } from './documents.js';
import {
  authorizationUrl,
  clientMetadata,
  connectWithOAuth,
  MemoryAuthProvider,
  pkcePair,
  registerClient,
  startOAuthHub,
  TestUserAgent,
  type OAuthTestHub,
} from './support.js';

/**
 * Client registration: Client ID Metadata Documents (fetched by the hub, with
 * SSRF protection), Dynamic Client Registration, both switchable, and the
 * admin's allow-list of client domains.
 */

const local = { kind: 'local' as const, user: ADMIN_USER, password: ADMIN_PASSWORD };
const REDIRECT = 'http://127.0.0.1:40002/callback';
const dir = mkdtempSync(path.join(tmpdir(), 'sonde-oauth-'));
const cert = loopbackCertificate();
let documents: DocumentServer;
/** Serves documents too, but the hub is not told it may fetch from it: it stands for any private address. */
let privateDocs: DocumentServer;
let hub: OAuthTestHub;

const doc = (url: string) => ({
  client_id: url,
  client_name: 'CIMD test client',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
});

beforeAll(async () => {
  documents = await startDocumentServer(cert);
  privateDocs = await startDocumentServer(cert);
  hub = await startOAuthHub({
    SONDE_OAUTH_FETCH_ALLOW_PRIVATE: documents.hostPort,
    SONDE_OAUTH_FETCH_CA_FILE: writeCa(dir, cert.certPem),
  });
});
afterAll(async () => {
  await hub?.close();
  await documents?.close();
  await privateDocs?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Client ID Metadata Documents', () => {
  it('the SDK client uses its document URL as client id; the hub fetches it once and the audit names it', async () => {
    const url = documents.serve('/clients/sdk.json', doc, { 'cache-control': 'max-age=300' });
    const provider = new MemoryAuthProvider(REDIRECT, clientMetadata(REDIRECT, 'CIMD test client'), url);
    const agent = new TestUserAgent(hub.url);
    const { client } = await connectWithOAuth(`${hub.url}/mcp`, provider, agent, local);
    expect(provider.info?.client_id).toBe(url);
    expect(agent.pages.some((p) => p.includes('Allow CIMD test client to use Sonde?'))).toBe(true);
    await client.callTool({ name: 'health_check', arguments: {} });
    await client.close();
    const entries = (await hub.app.core.store.audit.query({ limit: 50 })).filter((e) => e.action === 'mcp.tool_call');
    expect(entries.at(-1)).toMatchObject({ actor: { kind: 'user', name: ADMIN_USER }, clientId: url });
    // Cached within max-age: the whole flow (authorize, consent, token) fetched the document once.
    expect(documents.requests).toBe(1);
  });

  it('never fetches a document at a private address the hub was not told about', async () => {
    const url = privateDocs.serve('/clients/evil.json', doc);
    const response = await fetch(authorizationUrl(hub.url, { clientId: url, redirectUri: REDIRECT, challenge: pkcePair().challenge }), {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(privateDocs.requests).toBe(0);
    // Nor the cloud metadata address, nor plain http.
    for (const clientId of ['https://169.254.169.254/latest/meta-data.json', 'http://example.com/client.json']) {
      const refused = await fetch(authorizationUrl(hub.url, { clientId, redirectUri: REDIRECT, challenge: pkcePair().challenge }), {
        redirect: 'manual',
      });
      expect(refused.status, clientId).toBe(400);
    }
  });

  it('refuses a document whose client_id is not its own URL, or whose redirect URI differs', async () => {
    const other = documents.serve('/clients/liar.json', (url) => ({ ...doc(url), client_id: `${url}x` }));
    const liar = await fetch(authorizationUrl(hub.url, { clientId: other, redirectUri: REDIRECT, challenge: pkcePair().challenge }), {
      redirect: 'manual',
    });
    expect(liar.status).toBe(400);
    const honest = documents.serve('/clients/honest.json', doc);
    const wrongRedirect = await fetch(
      authorizationUrl(hub.url, { clientId: honest, redirectUri: 'http://evil.example/cb', challenge: pkcePair().challenge }),
      { redirect: 'manual' },
    );
    expect(wrongRedirect.status).toBe(400);
    expect(wrongRedirect.headers.get('location')).toBeNull();
  });
});

describe('Dynamic Client Registration: confidential clients', () => {
  it('seals the client secret at rest, shows it only in the registration answer, and still authenticates with it', async () => {
    const { status, body } = await registerClient(hub.url, {
      client_name: 'Confidential bot',
      redirect_uris: ['https://bot.example.com/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(status).toBe(201);
    const clientId = body.client_id as string;
    const secret = body.client_secret as string;
    expect(secret.length).toBeGreaterThanOrEqual(32);

    // At rest: the row names the client but holds only the sealed value (AES-GCM, bound to the row), never the secret.
    const rows = await hub.app.core.store.oauth.list('Client', { clientId }, new Date().toISOString());
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).not.toContain(secret);
    const stored = (JSON.parse(rows[0].payload) as { client_secret: string }).client_secret;
    expect(stored).toMatch(/^v1:/);
    expect(hub.app.core.crypto.sealer.openText(stored, `oauth-client-secret:${rows[0].id}`)).toBe(secret);

    // Reading the registration back (RFC 7591 client read, with its registration access token) never shows it again.
    const read = await fetch(body.registration_client_uri as string, {
      headers: { authorization: `Bearer ${body.registration_access_token as string}` },
    });
    expect(read.status).toBe(200);
    const readBody = (await read.json()) as Record<string, unknown>;
    expect(readBody.client_id).toBe(clientId);
    expect(readBody).not.toHaveProperty('client_secret');
    expect(JSON.stringify(readBody)).not.toContain(secret);

    // The secret still authenticates the client (revocation needs client authentication); a wrong one does not.
    const revoke = (password: string) =>
      fetch(`${hub.url}/oauth/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(password)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: 'not-a-token' }).toString(),
      });
    expect((await revoke(secret)).status).toBe(200);
    expect((await revoke(`${secret}x`)).status).toBe(401);
  });
});

describe('switches and the client allow-list', () => {
  it('with DCR and CIMD off, neither is advertised nor served; static clients still work', async () => {
    const file = path.join(dir, 'static.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify([{ client_id: 'static-cli', client_name: 'Static CLI', redirect_uris: [REDIRECT] }]));
    const locked = await startOAuthHub({ SONDE_OAUTH_DCR: 'false', SONDE_OAUTH_CIMD: 'false', SONDE_OAUTH_STATIC_CLIENTS: file });
    try {
      const meta = (await (await fetch(`${locked.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(meta.registration_endpoint).toBeUndefined();
      expect(meta.client_id_metadata_document_supported).toBeUndefined();
      expect((await registerClient(locked.url, { redirect_uris: [REDIRECT] })).status).toBe(404);
      const agent = new TestUserAgent(locked.url);
      const callback = await agent.authorize(
        authorizationUrl(locked.url, { clientId: 'static-cli', redirectUri: REDIRECT, challenge: pkcePair().challenge }),
        local,
      );
      expect(callback.searchParams.get('code')).toBeTruthy();
    } finally {
      await locked.close();
    }
  });

  it('limits registrations per address (each is a stored row): the 31st within a minute is refused with 429', async () => {
    const fresh = await startOAuthHub();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) statuses.push((await registerClient(fresh.url, { redirect_uris: [REDIRECT] })).status);
      expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await fresh.close();
    }
  });

  it('SONDE_OAUTH_CLIENT_DOMAINS admits only the listed hosts, loopback with `localhost`, schemes by name', async () => {
    const strict = await startOAuthHub({ SONDE_OAUTH_CLIENT_DOMAINS: 'claude.ai,*.claude.com,cursor:' });
    try {
      expect((await registerClient(strict.url, { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] })).status).toBe(201);
      expect((await registerClient(strict.url, { redirect_uris: ['https://app.claude.com/cb'] })).status).toBe(201);
      expect((await registerClient(strict.url, { redirect_uris: ['cursor://anysphere.cursor-retrieval/cb'] })).status).toBe(201);
      for (const uri of [REDIRECT, 'https://evil.example/cb', 'https://claude.ai.evil.example/cb', 'vscode://cb']) {
        const { status, body } = await registerClient(strict.url, { redirect_uris: ['https://claude.ai/ok', uri] });
        expect(status, uri).toBe(400);
        expect(body.error).toBe('invalid_redirect_uri');
      }
    } finally {
      await strict.close();
    }
  });
});
