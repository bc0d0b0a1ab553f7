import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { tempDir, testEnv } from '../helpers.js';

/**
 * GET /api/v1/audit/export (issue 25: "an alert … when a sink falls behind or fails"): what the dashboard's badge
 * reads. A real webhook sink aimed at a loopback port where nothing listens fails with the reason in the answer; a
 * receiver started on that port later brings it back. Unscoped admins only: it is hub-wide and names the collector.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface SinkStatus {
  sink: string;
  cursor: number;
  lagEntries: number;
  lagSeconds: number;
  behind: boolean;
  failing: boolean;
  lastError: string | null;
  delivered: number;
}

async function hub(extra: Record<string, string>): Promise<{ app: FastifyInstance; admin: string }> {
  const { dir, cleanup } = tempDir('sonde-export-status-');
  const app = await buildApp(loadConfig(testEnv(path.join(dir, 'sonde.db'), extra)), {
    logger: false,
    auditExportTuning: { pollMs: 100, retryBaseMs: 50, retryMaxMs: 200 },
  });
  await app.ready();
  cleanups.push(cleanup, () => app.close());
  const admin = (await app.core.apiKeys.create({ name: 'admin', role: 'admin' })).rawKey;
  return { app, admin };
}

/** A loopback port nothing listens on (taken from the kernel, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const status = async (app: FastifyInstance, key: string): Promise<{ code: number; body: { sinks: SinkStatus[] } }> => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/audit/export', headers: { authorization: `Bearer ${key}` } });
  return { code: res.statusCode, body: res.json() };
};

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('GET /api/v1/audit/export', () => {
  it('reports a failing webhook with its reason and lag, then its recovery', async () => {
    const port = await closedPort();
    const { app, admin } = await hub({
      SONDE_AUDIT_WEBHOOK_URL: `http://127.0.0.1:${port}/siem/token-in-path`,
      SONDE_AUDIT_WEBHOOK_SECRET: 'webhook-secret-0123456789-abcdefghijk',
    });
    for (let i = 0; i < 3; i++)
      await app.core.audit.append({ action: 'test.export', actor: { kind: 'system', id: null, name: 'tester' }, status: 'ok' });

    const failing = await until('the webhook failing', async () => {
      const { code, body } = await status(app, admin);
      expect(code).toBe(200);
      return body.sinks[0]?.failing ? body.sinks[0] : undefined;
    });
    expect(failing).toMatchObject({ sink: 'webhook', cursor: 0, behind: false, failing: true, delivered: 0 });
    expect(failing.lagEntries).toBeGreaterThanOrEqual(1);
    // The reason an operator can act on, with the host but not the path (a webhook path may carry a token).
    expect(failing.lastError).toBe(`could not deliver to 127.0.0.1:${port}: ECONNREFUSED`);

    // The collector comes back on the same port: the backlog goes out and the alert clears.
    const received: number[] = [];
    const receiver: Server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        for (const entry of (JSON.parse(raw) as { entries: { seq: number }[] }).entries) received.push(entry.seq);
        res.writeHead(204).end();
      });
    });
    receiver.listen(port, '127.0.0.1');
    await once(receiver, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const recovered = await until('the webhook recovered', async () => {
      const sink = (await status(app, admin)).body.sinks[0];
      return !sink.failing && sink.lagEntries === 0 ? sink : undefined;
    });
    expect(recovered).toMatchObject({ failing: false, behind: false, lastError: null, lagSeconds: 0 });
    expect(recovered.cursor).toBeGreaterThanOrEqual(failing.lagEntries);
    expect(received.slice(0, recovered.cursor)).toEqual(Array.from({ length: recovered.cursor }, (_, i) => i + 1));
  });

  it('is an empty list without sinks, and for unscoped admins only', async () => {
    const { app, admin } = await hub({});
    expect(await status(app, admin)).toEqual({ code: 200, body: { sinks: [] } });

    const member = (await app.core.apiKeys.create({ name: 'member', role: 'member' })).rawKey;
    const scoped = (await app.core.apiKeys.create({ name: 'scoped', role: 'admin', policy: { allowedAgents: ['staging-*'] } })).rawKey;
    const refused = async (headers: Record<string, string>): Promise<{ status: number; code: string }> => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/audit/export', headers });
      return { status: res.statusCode, code: res.json<{ error: { code: string } }>().error.code };
    };
    expect(await refused({ authorization: `Bearer ${member}` })).toMatchObject({ status: 403 });
    expect(await refused({ authorization: `Bearer ${scoped}` })).toEqual({ status: 403, code: 'SONDE_ERR_FORBIDDEN' });
    expect(await refused({})).toMatchObject({ status: 401 });
  });
});
