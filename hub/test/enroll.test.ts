import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { EnrollResponseSchema, offerWireKey, verifyWireKeyCert, type WireKeyOffer } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_VERSION } from '../src/version.js';
import { makeCsr, startTestHub, tamperCsr, type TestHub } from './helpers.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

async function newToken(name?: string): Promise<string> {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/api/v1/enrollment-tokens',
    headers: hub.auth(),
    payload: name ? { name } : {},
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ token: string }>().token;
}

function enroll(token: string, name: string, csrPem = makeCsr(name), wireKey?: WireKeyOffer, on = hub) {
  return on.app.inject({
    method: 'POST',
    url: '/api/v1/enroll',
    headers: { authorization: `Bearer ${token}`, host: 'hub.test:8443' },
    payload: { name, csrPem, agentVersion: '0.1.0', ...(wireKey ? { wireKey } : {}) },
  });
}

describe('the wire signature an enrolling agent gets', () => {
  it('Ed25519 by default: the offered key is certified and becomes the frame key; the hub key comes certified by the CA', async () => {
    const wire = generateKeyPairSync('ed25519');
    const csr = makeCsr('ed-1');
    const res = await enroll(await newToken(), 'ed-1', csr, offerWireKey(wire.privateKey, csr));
    expect(res.statusCode, res.body).toBe(201);
    const body = EnrollResponseSchema.parse(res.json());
    expect(body.wire?.alg).toBe('ed25519');
    const hubKey = verifyWireKeyCert(body.wire!.hubKey, new X509Certificate(body.caPem).publicKey);
    expect(hubKey.export({ format: 'jwk' }).x).toBe(createPublicKey(hub.app.core.wire!.privateKey).export({ format: 'jwk' }).x);
    const record = (await hub.app.core.store.agents.getById(body.agentId))!;
    expect(createPublicKey(record.publicKeyPem).export({ format: 'jwk' }).x).toBe(wire.publicKey.export({ format: 'jwk' }).x);
  });

  it('an agent from before Ed25519 (no offer) is enrolled with RSA as before', async () => {
    const res = await enroll(await newToken(), 'old-1');
    expect(res.statusCode).toBe(201);
    const body = EnrollResponseSchema.parse(res.json());
    expect(body.wire).toBeUndefined();
    const record = (await hub.app.core.store.agents.getById(body.agentId))!;
    expect(createPublicKey(record.publicKeyPem).asymmetricKeyType).toBe('rsa');
  });

  it('refuses an offer whose proof was made over another CSR, and keeps the token', async () => {
    const wire = generateKeyPairSync('ed25519');
    const token = await newToken();
    const res = await enroll(token, 'ed-2', makeCsr('ed-2'), offerWireKey(wire.privateKey, makeCsr('someone-else')));
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('SONDE_ERR_CSR_INVALID');
    expect((await enroll(token, 'ed-2')).statusCode).toBe(201);
  });

  it('SONDE_WIRE_SIGNATURE=rsa-sha256: the offer is ignored and the agent signs with RSA', async () => {
    const rsaHub = await startTestHub({ SONDE_WIRE_SIGNATURE: 'rsa-sha256' });
    try {
      const token = (
        await rsaHub.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: rsaHub.auth(), payload: {} })
      ).json<{ token: string }>().token;
      const wire = generateKeyPairSync('ed25519');
      const csr = makeCsr('rsa-site-1');
      const res = await enroll(token, 'rsa-site-1', csr, offerWireKey(wire.privateKey, csr), rsaHub);
      expect(res.statusCode).toBe(201);
      const body = EnrollResponseSchema.parse(res.json());
      expect(body.wire).toBeUndefined();
      const record = (await rsaHub.app.core.store.agents.getById(body.agentId))!;
      expect(createPublicKey(record.publicKeyPem).asymmetricKeyType).toBe('rsa');
    } finally {
      await rsaHub.close();
    }
  });
});

describe('POST /api/v1/enroll', () => {
  it('issues a certificate from the hub CA, an agent key and the WebSocket URL', async () => {
    const res = await enroll(await newToken(), 'web-1');
    expect(res.statusCode).toBe(201);
    const body = EnrollResponseSchema.parse(res.json());
    expect(body.name).toBe('web-1');
    expect(body.wsUrl).toBe('ws://hub.test:8443/ws/agent');
    expect(body.apiKey).toMatch(/^sonde_[A-Za-z0-9_-]{43}$/);
    const cert = new X509Certificate(body.certPem);
    expect(cert.checkIssued(new X509Certificate(body.caPem))).toBe(true);
    const record = (await hub.app.core.store.agents.getById(body.agentId))!;
    expect(record.certSerial).toBe(cert.serialNumber.toLowerCase());
    // Stored hashed, typed agent, named agent:<name>.
    const key = (await hub.app.core.apiKeys.list()).find((k) => k.agentId === body.agentId)!;
    expect(key).toMatchObject({ name: 'agent:web-1', type: 'agent' });
    expect(JSON.stringify(await hub.app.core.store.apiKeys.list())).not.toContain(body.apiKey);
    // Agent keys never work on REST.
    const rest = await hub.app.inject({ method: 'GET', url: '/api/v1/agents', headers: hub.auth(body.apiKey) });
    expect(rest.statusCode).toBe(401);
    expect(await hub.app.sonde.authenticateApiKey(body.apiKey)).toBeUndefined();
    expect((await hub.app.core.apiKeys.authenticateAgent(body.apiKey))?.agentId).toBe(body.agentId);
  });

  it('refuses a replayed token (single use)', async () => {
    const token = await newToken();
    expect((await enroll(token, 'once-1')).statusCode).toBe(201);
    const again = await enroll(token, 'once-2');
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({ error: { code: 'SONDE_ERR_TOKEN_USED', message: expect.any(String) } });
  });

  it('two racing enrollments with one token: exactly one wins', async () => {
    const token = await newToken();
    const results = await Promise.all([enroll(token, 'race-a'), enroll(token, 'race-b'), enroll(token, 'race-c')]);
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 401, 401]);
    const names = (await hub.app.core.store.agents.list()).map((a) => a.name);
    expect(names.filter((n) => n.startsWith('race-'))).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const token = await newToken();
    const record = (await hub.app.core.store.enrollmentTokens.list()).at(-1)!;
    // The same token, stored again as one that expired long ago.
    await hub.app.core.store.enrollmentTokens.revoke(record.id);
    await hub.app.core.store.enrollmentTokens.create({ ...record, expiresAt: '2000-01-01T00:00:00.000Z' });
    const res = await enroll(token, 'late-1');
    expect(res.json().error.code).toBe('SONDE_ERR_TOKEN_EXPIRED');
  });

  it('refuses unknown, missing and malformed tokens', async () => {
    expect((await enroll('nope', 'x-1')).json().error.code).toBe('SONDE_ERR_TOKEN_INVALID');
    const missing = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      payload: { name: 'x-1', csrPem: makeCsr('x-1'), agentVersion: '1' },
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('SONDE_ERR_TOKEN_INVALID');
  });

  it('validates the body (400 SONDE_ERR_VALIDATION) without using the token', async () => {
    const token = await newToken();
    const bad = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/enroll',
      headers: { authorization: `Bearer ${token}` },
      payload: { name: '../etc', csrPem: 'x', agentVersion: '1' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('SONDE_ERR_VALIDATION');
    const badCsr = await enroll(token, 'csr-1', tamperCsr(makeCsr('csr-1')));
    expect(badCsr.statusCode).toBe(400);
    expect(badCsr.json().error.code).toBe('SONDE_ERR_CSR_INVALID');
    expect((await enroll(token, 'csr-1')).statusCode).toBe(201);
  });

  it('refuses to take over an existing name with an unbound token, and keeps the token', async () => {
    const first = await enroll(await newToken(), 'db-1');
    expect(first.statusCode).toBe(201);
    const token = await newToken();
    const takeover = await enroll(token, 'db-1');
    expect(takeover.statusCode).toBe(409);
    expect(takeover.json().error.code).toBe('SONDE_ERR_NAME_TAKEN');
    expect((await enroll(token, 'db-2')).statusCode).toBe(201);
  });

  it('a token bound to a name works only for that name', async () => {
    const token = await newToken('bound-1');
    expect((await enroll(token, 'bound-2')).json().error.code).toBe('SONDE_ERR_TOKEN_INVALID');
    expect((await enroll(token, 'bound-1')).statusCode).toBe(201);
  });

  it('re-enrolment with a token bound to the name keeps the UUID and revokes the old certificate and key', async () => {
    const first = EnrollResponseSchema.parse((await enroll(await newToken(), 'app-1')).json());
    const oldSerial = new X509Certificate(first.certPem).serialNumber.toLowerCase();
    const second = await enroll(await newToken('app-1'), 'app-1');
    expect(second.statusCode).toBe(201);
    const body = EnrollResponseSchema.parse(second.json());
    expect(body.agentId).toBe(first.agentId);
    expect(await hub.app.core.store.revokedCerts.isRevoked(oldSerial)).toBe(true);
    expect(await hub.app.core.store.agents.getByCertSerial(oldSerial)).toBeUndefined();
    expect(await hub.app.core.apiKeys.authenticateAgent(first.apiKey)).toBeUndefined();
    expect((await hub.app.core.apiKeys.authenticateAgent(body.apiKey))?.agentId).toBe(first.agentId);
  });

  it('audits enrolments, including refused ones', async () => {
    const page = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?tool=agent.enroll&limit=500', headers: hub.auth() });
    const entries = page.json<{ entries: { status: string }[] }>().entries;
    expect(entries.some((e) => e.status === 'ok')).toBe(true);
    expect(entries.some((e) => e.status === 'denied')).toBe(true);
  });

  it('health answers without auth', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.json()).toEqual({ status: 'ok', version: HUB_VERSION, uptimeS: expect.any(Number) });
  });
});
