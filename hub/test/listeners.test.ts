import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listenDiagnostics, somaxconn } from '../src/listeners.js';
import { startTestHub, tempDir, testEnv } from './helpers.js';
import { runCli, startHubProcess } from './process.js';

const METRICS_TOKEN = 'diag-metrics-token-0123456789';

/** `ss` shows a listening socket's backlog as its Send-Q (Linux inet_diag: sk_max_ack_backlog). */
function hasSs(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function listenBacklogOf(port: number): number {
  const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  // State Recv-Q Send-Q Local:Port Peer:Port
  const [line] = out.split('\n');
  return Number(line.trim().split(/\s+/)[2]);
}

function diagPortOf(output: string): number {
  const match = /"port":(\d+)[^\n]*"msg":"sonde hub diagnostics listening"/.exec(output);
  if (!match) throw new Error(`no diagnostics listener in the log:\n${output}`);
  return Number(match[1]);
}

async function occupiedPort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('the diagnostics listener (SONDE_DIAG_ADDR) and the listen backlog (SONDE_LISTEN_BACKLOG), real hub process', () => {
  it('serves health, readiness and metrics (with the metrics token rule) on its own port, 404 for anything else', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'), {
        SONDE_LOG_LEVEL: 'info',
        SONDE_DIAG_ADDR: '127.0.0.1:0',
        SONDE_METRICS_TOKEN: METRICS_TOKEN,
      });
      const hub = await startHubProcess(env);
      try {
        const diagPort = diagPortOf(hub.output());
        expect(diagPort).not.toBe(hub.port);
        const diag = `http://127.0.0.1:${diagPort}`;

        const health = await fetch(`${diag}/api/v1/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'ok' });
        expect((await fetch(`${diag}/api/v1/health`, { method: 'HEAD' })).status).toBe(200);
        const ready = await fetch(`${diag}/api/v1/ready?verbose=1`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'ready' });

        // The same rule as on the main port: SONDE_METRICS_TOKEN set, no token → 401 on both.
        for (const base of [hub.url, diag]) {
          const refused = await fetch(`${base}/metrics`);
          expect(refused.status, base).toBe(401);
          expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
          expect(await refused.text()).not.toContain('sonde_agents_connected');
        }
        const metrics = await fetch(`${diag}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^sonde_agents_connected /m);

        // Nothing else: the REST API, the login form, the dashboard and the agent socket are the main port's alone.
        const { rawKey } = JSON.parse((await runCli(['keys', 'create', '--name', 'k', '--role', 'admin', '--json'], env)).stdout) as {
          rawKey: string;
        };
        expect((await fetch(`${hub.url}/api/v1/api-keys`, { headers: { authorization: `Bearer ${rawKey}` } })).status).toBe(200);
        const apiOnDiag = await fetch(`${diag}/api/v1/api-keys`, { headers: { authorization: `Bearer ${rawKey}` } });
        expect(apiOnDiag.status).toBe(404);
        expect(await apiOnDiag.json()).toEqual({ error: { code: 'SONDE_ERR_NOT_FOUND', message: 'Not found.' } });
        for (const [method, url] of [
          ['POST', '/api/v1/auth/login'],
          ['GET', '/'],
          ['GET', '/ws/agent'],
          ['GET', '/metrics/'],
          ['GET', '/api/v1/openapi.json'],
          ['POST', '/api/v1/health'],
          ['DELETE', '/metrics'],
        ] as const) {
          expect((await fetch(`${diag}${url}`, { method })).status, `${method} ${url}`).toBe(404);
        }

        expect(await hub.stop()).toBe(0);
        // Closed with the hub.
        await expect(fetch(`${diag}/api/v1/health`)).rejects.toThrow();
      } finally {
        await hub.stop();
      }
    } finally {
      cleanup();
    }
  });

  it('answers in plain HTTP when the main listener serves HTTPS (SONDE_TLS=auto)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const hub = await startHubProcess(
        testEnv(path.join(dir, 'sonde.db'), {
          SONDE_LOG_LEVEL: 'info',
          SONDE_TLS: 'auto',
          SONDE_TLS_HOSTNAMES: '127.0.0.1',
          SONDE_DIAG_ADDR: '127.0.0.1:0',
        }),
      );
      try {
        const diag = `http://127.0.0.1:${diagPortOf(hub.output())}`;
        const health = await fetch(`${diag}/api/v1/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'ok' });
        expect((await fetch(`${diag}/api/v1/ready`)).status).toBe(200);
        expect(await (await fetch(`${diag}/metrics`)).text()).toMatch(/^sonde_agents_connected /m);
      } finally {
        await hub.stop();
      }
    } finally {
      cleanup();
    }
  });

  it.skipIf(!hasSs())('passes SONDE_LISTEN_BACKLOG to the main socket (ss Send-Q), 511 by default (capped by somaxconn)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const custom = await startHubProcess(testEnv(path.join(dir, 'a.db'), { SONDE_LOG_LEVEL: 'info', SONDE_LISTEN_BACKLOG: '123' }));
      try {
        expect(listenBacklogOf(custom.port)).toBe(123);
        expect(custom.output()).toMatch(/"backlog":123[^\n]*"msg":"sonde hub listening"/);
      } finally {
        await custom.stop();
      }
      const byDefault = await startHubProcess(testEnv(path.join(dir, 'b.db'), { SONDE_LOG_LEVEL: 'info' }));
      try {
        expect(listenBacklogOf(byDefault.port)).toBe(Math.min(511, somaxconn() ?? 511));
      } finally {
        await byDefault.stop();
      }
    } finally {
      cleanup();
    }
  });

  it('refuses to start with a bad SONDE_DIAG_ADDR, or one it cannot listen on: one clear line, exit 2', async () => {
    const { dir, cleanup } = tempDir();
    const busy = await occupiedPort();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'));
      const malformed = await runCli(['serve'], { ...env, SONDE_DIAG_ADDR: ':3001' });
      expect(malformed.code).toBe(2);
      expect(malformed.stderr.trim()).toBe(
        'sonde-hub: SONDE_ERR_CONFIG: SONDE_DIAG_ADDR ":3001" is not host:port such as 127.0.0.1:3001 ' +
          '([::1]:3001 for IPv6, 0.0.0.0:3001 for every interface)',
      );
      const badBacklog = await runCli(['serve'], { ...env, SONDE_LISTEN_BACKLOG: '-1' });
      expect(badBacklog.code).toBe(2);
      expect(badBacklog.stderr).toMatch(/^sonde-hub: SONDE_ERR_CONFIG: SONDE_LISTEN_BACKLOG /);

      const port = (busy.address() as AddressInfo).port;
      const inUse = await runCli(['serve'], { ...env, SONDE_DIAG_ADDR: `127.0.0.1:${port}` });
      expect(inUse.code).toBe(2);
      expect(inUse.stderr.trim()).toBe(`sonde-hub: SONDE_ERR_CONFIG: SONDE_DIAG_ADDR 127.0.0.1:${port} cannot be listened on (EADDRINUSE)`);
    } finally {
      busy.close();
      cleanup();
    }
  });

  it('closes with the app (app.close(), not only on a signal), answering through the app until then', async () => {
    const hub = await startTestHub();
    try {
      await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const diag = await listenDiagnostics(hub.app, { host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${diag.address.port}`;
      expect((await fetch(`${url}/api/v1/ready`)).status).toBe(200);
      await hub.app.close();
      await expect(fetch(`${url}/api/v1/health`)).rejects.toThrow();
      await diag.close();
    } finally {
      await hub.close();
    }
  });
});
