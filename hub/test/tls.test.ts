import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { EnrollResponseSchema, type EnrollResponse } from '@sonde/pack-sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import path from 'node:path';
import { agentKey, makeCsr, startTestHub, tempDir, type TestHub } from './helpers.js';

let hub: TestHub;
let base: string;
let caPem: string;

beforeAll(async () => {
  hub = await startTestHub({ SONDE_TLS: 'auto', SONDE_TLS_HOSTNAMES: 'localhost,127.0.0.1' });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  base = `https://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
  caPem = hub.app.core.ca!.certPem;
});
afterAll(() => hub.close());

interface Answer {
  status: number;
  body: unknown;
}

/** HTTPS with the hub CA pinned (never verification turned off); optional client certificate. */
function request(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; cert?: string; key?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = https.request(
      `${base}${path}`,
      {
        method,
        ca: caPem,
        cert: options.cert,
        key: options.key,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function enrollOverTls(name: string): Promise<EnrollResponse> {
  const token = (await request('POST', '/api/v1/enrollment-tokens', { body: {}, headers: hub.auth() })).body as { token: string };
  const res = await request('POST', '/api/v1/enroll', {
    body: { name, csrPem: makeCsr(name), agentVersion: '0.1.0' },
    headers: { authorization: `Bearer ${token.token}` },
  });
  expect(res.status).toBe(201);
  return EnrollResponseSchema.parse(res.body);
}

describe('SONDE_TLS=auto', () => {
  it('serves HTTPS with a server certificate issued by the hub CA', async () => {
    const res = await request('GET', '/api/v1/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('enrollment returns a wss:// URL; the agent connects over mTLS with its certificate', async () => {
    const agent = await enrollOverTls('tls-1');
    expect(agent.wsUrl).toBe(`${base.replace('https', 'wss')}/ws/agent`);
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(agent.wsUrl, { ca: caPem, cert: agent.certPem, key: agentKey().privateKeyPem });
      ws.once('open', () => {
        ws.close();
        resolve(true);
      });
      ws.once('unexpected-response', () => resolve(false));
      ws.once('error', () => resolve(false));
    });
    expect(opened).toBe(true);
  });

  it('a user key cannot open the agent socket', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('https', 'wss')}/ws/agent`, { ca: caPem, headers: hub.auth() });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(401);
  });

  it('renews an agent certificate over mTLS only in its last 30 days, revoking the old one', async () => {
    const agent = await enrollOverTls('tls-renew');
    const key = agentKey().privateKeyPem;
    const early = await request('POST', '/api/v1/agents/renew', { body: { csrPem: makeCsr('tls-renew') }, cert: agent.certPem, key });
    expect(early.status).toBe(409);
    expect((early.body as { error: { code: string } }).error.code).toBe('SONDE_ERR_RENEWAL_NOT_DUE');

    const soon = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const { store } = hub.app.core;
    const stored = (await store.agents.getById(agent.agentId))!;
    await store.agents.replaceCredentials(agent.agentId, {
      certPem: stored.certPem!,
      certSerial: stored.certSerial!,
      certNotAfter: soon,
      publicKeyPem: stored.publicKeyPem,
    });
    const renewed = await request('POST', '/api/v1/agents/renew', { body: { csrPem: makeCsr('tls-renew') }, cert: agent.certPem, key });
    expect(renewed.status).toBe(200);
    const body = renewed.body as { agentId: string; certPem: string };
    expect(body.agentId).toBe(agent.agentId);
    const oldSerial = new X509Certificate(agent.certPem).serialNumber.toLowerCase();
    expect(new X509Certificate(body.certPem).serialNumber.toLowerCase()).not.toBe(oldSerial);
    expect(await hub.app.core.store.revokedCerts.isRevoked(oldSerial)).toBe(true);

    const replay = await request('POST', '/api/v1/agents/renew', { body: { csrPem: makeCsr('tls-renew') }, cert: agent.certPem, key });
    expect(replay.status).toBe(401);
  });

  it('renewal without a client certificate is refused', async () => {
    const res = await request('POST', '/api/v1/agents/renew', { body: { csrPem: makeCsr('x-1') } });
    expect(res.status).toBe(401);
    expect((res.body as { error: { code: string } }).error.code).toBe('SONDE_ERR_CLIENT_CERT_REQUIRED');
  });
});

describe('SONDE_TLS_CERT / SONDE_TLS_KEY', () => {
  it('serves HTTPS with the given certificate files', async () => {
    const { dir, cleanup } = tempDir();
    const issued = hub.app.core.ca!.issueServerCert(['127.0.0.1']);
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(certFile, issued.certPem);
    writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
    const other = await startTestHub({ SONDE_TLS_CERT: certFile, SONDE_TLS_KEY: keyFile });
    try {
      await other.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (other.app.server.address() as AddressInfo).port;
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${port}/api/v1/health`, { ca: caPem }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      await other.close();
      cleanup();
    }
  });
});
