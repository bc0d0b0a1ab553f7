// A real OpenID Connect provider (panva/oidc-provider) on loopback, for tests.
// Started by ./oidc-provider.ts as its own process: `node oidc-provider-server.mjs '<options JSON>'`.
// Prints one line `{"issuer": …}` once it listens. Test-only routes, never HTML:
//   GET  <mount>/interaction/:uid  -> {"uid", "prompt"}
//   POST <mount>/interaction/:uid  {"accountId", "claims"} (JSON, or a form with claims as JSON text) -> finishes the login
//   POST /__test/next-id-token      {"set": {claim: value|null}, "otherKey"?: true} -> the next token response's
//        ID token is re-signed with these claims changed (a misbehaving or substituted token)
import { URLSearchParams } from 'node:url';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] ?? '{}');
const mountPath = (options.mountPath ?? '').replace(/\/+$/, '');
const extraClaims = [
  'tid',
  'oid',
  'groups',
  'roles',
  'hasgroups',
  '_claim_names',
  '_claim_sources',
  'name',
  'email',
  'email_verified',
  'preferred_username',
];

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}
const providerKey = await signingKey('provider-key-1');
// Never published: a token signed with it must fail the JWKS check.
const strangerKey = await signingKey('provider-key-1');

/** accountId -> claims, set by the test when it finishes an interaction. */
const accounts = new Map();
let rewriteNext;

const readJson = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch (error) {
        reject(error);
      }
    });
  });
const readForm = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        const fields = new URLSearchParams(body);
        resolve({ accountId: fields.get('accountId'), claims: JSON.parse(fields.get('claims') || '{}') });
      } catch (error) {
        reject(error);
      }
    });
  });
const sendJson = (res, status, value) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => sendJson(res, 500, { error: String(error?.message ?? error) }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const issuer = `${origin}${mountPath}`;

const provider = new Provider(issuer, {
  clients: options.clients ?? [],
  jwks: { keys: [providerKey] },
  claims: { openid: ['sub', ...extraClaims] },
  scopes: ['openid', 'offline_access', 'email', 'profile', ...(options.extraScopes ?? [])],
  // Put the account's claims in the ID token itself (Entra does; the hub reads only the ID token).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  cookies: { keys: [randomUUID()] },
  ttl: { IdToken: options.idTokenTtl ?? 3600 },
  interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
  findAccount: (_ctx, id) => (accounts.has(id) ? { accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) } : undefined),
  // First-party test client: consent is implied, as for an enterprise app an admin consented to.
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims(['sub', ...extraClaims]);
    await grant.save();
    return grant;
  },
});

// The substitution hook: runs after the token endpoint produced its answer.
provider.use(async (ctx, next) => {
  await next();
  if (!rewriteNext || ctx.path !== '/token' || ctx.method !== 'POST' || typeof ctx.body?.id_token !== 'string') return;
  const { set = {}, otherKey = false } = rewriteNext;
  rewriteNext = undefined;
  const payload = jose.decodeJwt(ctx.body.id_token);
  for (const [claim, value] of Object.entries(set)) {
    if (value === null) delete payload[claim];
    else payload[claim] = value;
  }
  const key = otherKey ? strangerKey : providerKey;
  ctx.body = {
    ...ctx.body,
    id_token: await new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(await jose.importJWK(key, 'RS256')),
  };
});

const callback = provider.callback();

async function handle(req, res) {
  const url = new URL(req.url ?? '/', origin);
  if (url.pathname === '/__test/next-id-token' && req.method === 'POST') {
    rewriteNext = await readJson(req);
    res.writeHead(204).end();
    return;
  }
  const interaction = new RegExp(`^${mountPath}/interaction/([^/]+)$`).exec(url.pathname);
  if (interaction) {
    if (req.method === 'GET') {
      const details = await provider.interactionDetails(req, res);
      sendJson(res, 200, { uid: details.uid, prompt: details.prompt.name });
      return;
    }
    // JSON from the HTTP-only tests; a plain form POST from a real browser (the dashboard SSO test), claims as JSON text.
    const form = /application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '');
    const { accountId, claims = {} } = form ? await readForm(req) : await readJson(req);
    accounts.set(accountId, claims);
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  if (mountPath) {
    if (!url.pathname.startsWith(`${mountPath}/`)) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(mountPath.length);
  }
  callback(req, res);
}

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
