import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { tempDir, testEnv } from './helpers.js';
import { runCli, startHubProcess } from './process.js';

describe('sonde-hub serve (real process)', () => {
  it('starts, answers /health, keeps its data across a restart and stops on SIGTERM with exit 0', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'), { SONDE_LOG_LEVEL: 'info' });
      const first = await startHubProcess(env);
      const created = await runCli(['keys', 'create', '--name', 'k', '--role', 'admin', '--json'], env);
      const { rawKey } = JSON.parse(created.stdout) as { rawKey: string };
      const health = await fetch(`${first.url}/api/v1/health`);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      expect(await first.stop()).toBe(0);

      const second = await startHubProcess(env);
      const res = await fetch(`${second.url}/api/v1/api-keys`, { headers: { authorization: `Bearer ${rawKey}` } });
      expect(res.status).toBe(200);
      expect(await second.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('loads at start none of the built-ins only unused features need (hub/scripts/bundle.mjs), and still serves', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // Node's own list of the built-in modules it loaded, written when the hub exits (after /health and one REST call).
      const preload = path.join(dir, 'loaded.cjs');
      const list = path.join(dir, 'loaded.txt');
      writeFileSync(
        preload,
        `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`,
      );
      const env = testEnv(path.join(dir, 'sonde.db'), { SONDE_LOG_LEVEL: 'info', NODE_OPTIONS: `--require ${preload}` });
      const hub = await startHubProcess(env);
      expect((await fetch(`${hub.url}/api/v1/auth/me`)).status).toBe(401);
      expect(await hub.stop()).toBe(0);
      const loaded = new Set(readFileSync(list, 'utf8').split('\n'));
      expect(loaded.has('NativeModule http')).toBe(true);
      // http2 (Fastify's server.js), https and tls (Fastify, ws's client side, prom-client's Pushgateway), zlib (ws's
      // permessage-deflate, archives), readline (the CLI's prompts): each loads on its feature's first use.
      for (const name of ['http2', 'https', 'tls', 'zlib', 'readline']) expect(loaded.has(`NativeModule ${name}`), name).toBe(false);
    } finally {
      cleanup();
    }
  }, 60_000);

  it('with SONDE_TLS=auto serves HTTPS with a certificate for the configured hosts (key made while loading)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'), { SONDE_LOG_LEVEL: 'info', SONDE_TLS: 'auto', SONDE_TLS_HOSTNAMES: '127.0.0.1' });
      const hub = await startHubProcess(env);
      const peer = await new Promise<PeerCertificate>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: hub.port, rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate());
          socket.end();
        });
        socket.once('error', reject);
      });
      expect(peer.subjectaltname).toContain('IP Address:127.0.0.1');
      expect(peer.issuer.CN).toBe('Sonde Hub CA');
      expect(await hub.stop()).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('refuses to start without SONDE_SECRET or with a short admin password: one line per problem, exit 2', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'));
      const { SONDE_SECRET: _secret, ...withoutSecret } = env;
      const result = await runCli(['serve'], { ...withoutSecret, SONDE_ADMIN_PASSWORD: 'short' });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^sonde-hub: SONDE_ERR_CONFIG: SONDE_SECRET is required/),
        'sonde-hub: SONDE_ERR_CONFIG: SONDE_ADMIN_PASSWORD must be at least 12 characters',
      ]);
    } finally {
      cleanup();
    }
  });

  it('refuses to start with a wrong SONDE_SECRET (exit 3, no stack trace)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = testEnv(path.join(dir, 'sonde.db'));
      expect((await runCli(['keys', 'list'], env)).code).toBe(0);
      const result = await runCli(['serve'], { ...env, SONDE_SECRET: 'z'.repeat(40) });
      expect(result.code).toBe(3);
      expect(result.stderr.trim()).toMatch(
        /^sonde-hub: SONDE_ERR_WRONG_SECRET: SONDE_SECRET does not match the secret this database was created with/,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      cleanup();
    }
  });
});
