import { execFile, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  prepareFixturePack,
  REPO,
  removeDir,
  runCli,
  spawnAgent,
  type AgentProcess,
  spawnRealHub,
} from './support/cli.js';
import { precondition } from '../../test/support/preconditions.js';

/**
 * Ed25519 on the wire, with real hub and agent processes over TLS:
 * an RSA deployment (SONDE_WIRE_SIGNATURE=rsa-sha256) enrolls an agent that signs with RSA; the hub is restarted
 * with the default (ed25519), as an upgrade would; the agent enrolled before the change reconnects and keeps
 * working with RSA; `sonde renew` moves it to Ed25519 and the running agent reconnects with the new keys; a new
 * enrollment gets Ed25519 directly.
 */
const HUB_CLI = path.join(REPO, 'hub/dist/cli.js');
const hubBuilt = precondition(import.meta.url, 'hub-built', existsSync(HUB_CLI), 'hub/dist/cli.js is missing (run `npm run build`)');
const user = agentUser();
let hubDir: string;
let hubEnv: Record<string, string>;
let hub: ChildProcess | undefined;
let hubUrl: string;
let adminKey: string;
let caFile: string;
let fixture: string;
const homes: string[] = [];
const agents: AgentProcess[] = [];

function hubCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HUB_CLI, ...args], { env: hubEnv, cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function startHub(extra: Record<string, string>): Promise<void> {
  const started = await spawnRealHub({ ...hubEnv, ...extra });
  hub = started.child;
  const port = started.port;
  // The same port across restarts: the agent's identity names it.
  hubEnv.SONDE_PORT = String(port);
  hubUrl = `https://127.0.0.1:${port}`;
}

async function stopHub(): Promise<void> {
  if (hub && hub.exitCode === null) {
    const exited = new Promise((resolve) => hub!.once('exit', resolve));
    hub.kill('SIGTERM');
    await exited;
  }
  hub = undefined;
}

/** The hub CA, taken from the chain the hub presents (the test's trust on first use; agents get it with --ca-file). */
function fetchCa(): Promise<string> {
  const url = new URL(hubUrl);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      const issuer = socket.getPeerCertificate(true).issuerCertificate;
      socket.end();
      if (!issuer?.raw) return reject(new Error('the hub presented no CA certificate'));
      resolve(new X509Certificate(issuer.raw).toString());
    });
    socket.once('error', reject);
  });
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const ca = readFileSync(caFile, 'utf8');
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      `${hubUrl}${route}`,
      { method, ca, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null }));
      },
    );
    req.once('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

async function enroll(name: string): Promise<{ home: string; enrolled: Record<string, unknown> }> {
  const home = agentHome(user);
  homes.push(home);
  const homeCa = path.join(home, 'hub-ca.pem');
  writeFileSync(homeCa, readFileSync(caFile));
  if (user) chownSync(homeCa, user.uid, user.gid);
  const created = await hubCli(['tokens', 'create', '--name', name, '--json']);
  expect(created.code, created.stderr).toBe(0);
  const token = (JSON.parse(created.stdout) as { token: string }).token;
  const result = await runCli(['enroll', '--hub', hubUrl, '--ca-file', homeCa, '--token', token, '--name', name, '--json'], { home, user });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  await runCli(['packs', 'install', fixture], { home, user });
  await runCli(['packs', 'approve', 'fixture'], { home, user });
  return { home, enrolled: json(result) };
}

async function probeOk(name: string): Promise<void> {
  await expect
    .poll(
      async () =>
        ((await api('GET', '/api/v1/agents')).body as Array<{ name: string; status: string }>).find((a) => a.name === name)?.status,
      {
        timeout: 20_000,
        interval: 100,
      },
    )
    .toBe('online');
  const result = await api('POST', '/api/v1/probes', { agent: name, probe: 'fixture.secrets', params: {} });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  expect(result.body).toMatchObject({ status: 'ok' });
}

const identityOf = (home: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(home, 'identity.json'), 'utf8'));

describe.skipIf(!hubBuilt.holds)('wire signatures between real hub and agent processes', () => {
  beforeAll(async () => {
    ensureBuilt();
    hubDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-wire-'));
    hubEnv = {
      PATH: process.env.PATH ?? '',
      SONDE_SECRET: 'wire-test-secret-0123456789-abcdefghijklmn',
      SONDE_DB_PATH: path.join(hubDir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: 'correct-horse-battery',
      SONDE_PORT: '0',
      SONDE_TLS: 'auto',
      SONDE_TLS_HOSTNAMES: '127.0.0.1',
      SONDE_HEARTBEAT_MS: '1000',
      SONDE_LOG_LEVEL: 'info',
    };
    await startHub({ SONDE_WIRE_SIGNATURE: 'rsa-sha256' });
    caFile = path.join(hubDir, 'ca.pem');
    writeFileSync(caFile, await fetchCa(), { mode: 0o644 });
    adminKey = (
      JSON.parse((await hubCli(['keys', 'create', '--name', 'wire-test', '--role', 'admin', '--json'])).stdout) as { rawKey: string }
    ).rawKey;
    fixture = await prepareFixturePack(user);
  }, 60_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await stopHub();
    if (hubDir) rmSync(hubDir, { recursive: true, force: true });
    for (const home of homes) removeDir(home);
    if (fixture) removeDir(path.dirname(fixture));
  });

  it('an RSA deployment enrolls RSA agents; after the upgrade to Ed25519 they keep working, then renew onto Ed25519', async () => {
    const { home, enrolled } = await enroll('wire-legacy');
    expect(enrolled.wireSignature).toBe('rsa-sha256');
    expect(existsSync(path.join(home, 'agent.wire-key.pem'))).toBe(false);
    // The identity exactly as an agent enrolled before Ed25519 existed wrote it: no wireSignature field.
    const { wireSignature: _dropped, ...legacy } = identityOf(home);
    writeFileSync(path.join(home, 'identity.json'), `${JSON.stringify(legacy, null, 2)}\n`, { mode: 0o600 });
    if (user) chownSync(path.join(home, 'identity.json'), user.uid, user.gid);

    const agent = spawnAgent({ home, user });
    agents.push(agent);
    await agent.waitForOutput(/"wire":"rsa-sha256"[^\n]*registered with hub/, 20_000);
    await probeOk('wire-legacy');

    // The upgrade: same database, the default wire signature. The agent reconnects on its own, still with RSA.
    await stopHub();
    await startHub({});
    await probeOk('wire-legacy');

    // Renewal moves it to Ed25519 at once (no need to wait for the certificate's last 30 days).
    const renewed = await runCli(['renew', '--json'], { home, user });
    expect(renewed.code, renewed.stdout + renewed.stderr).toBe(0);
    expect(json(renewed)).toMatchObject({ ok: true, wireSignature: 'ed25519', previous: 'rsa-sha256' });
    expect(identityOf(home).wireSignature).toBe('ed25519');
    // The running agent's mTLS session ends (its certificate was replaced) and it reconnects with the new keys.
    await agent.waitForOutput(/"wire":"ed25519"[^\n]*registered with hub/, 20_000);
    await probeOk('wire-legacy');
    const audit = (await api('GET', '/api/v1/audit?tool=agent.renew')).body as { entries: Array<{ action: string; detail: string }> };
    expect(audit.entries.map((entry) => entry.detail)).toEqual([expect.stringMatching(/wire ed25519/)]);

    // A second renewal now is neither due nor a change of signature: refused.
    const again = await runCli(['renew', '--json'], { home, user });
    expect(again.code).toBe(6);
    expect(json<{ error: { code: string; message: string } }>(again).error).toMatchObject({ code: 'SONDE_ERR_RENEW_REFUSED' });
  });

  it('a new enrollment under the default signs with Ed25519 and pins the CA-certified hub key', async () => {
    const { home, enrolled } = await enroll('wire-new');
    expect(enrolled.wireSignature).toBe('ed25519');
    expect(identityOf(home).wireSignature).toBe('ed25519');
    const agent = spawnAgent({ home, user });
    agents.push(agent);
    await agent.waitForOutput(/"wire":"ed25519"[^\n]*registered with hub/, 20_000);
    await probeOk('wire-new');
    await agent.stop();

    // A hub key that the pinned CA did not certify: the agent refuses to start rather than trust it.
    const pinned = JSON.parse(readFileSync(path.join(home, 'hub.wire-key.json'), 'utf8')) as { publicKey: string };
    const forged = { ...pinned, publicKey: Buffer.alloc(32, 7).toString('base64') };
    writeFileSync(path.join(home, 'hub.wire-key.json'), JSON.stringify(forged), { mode: 0o600 });
    if (user) chownSync(path.join(home, 'hub.wire-key.json'), user.uid, user.gid);
    const status = await runCli(['start', '--json-logs'], { home, user });
    expect(status.code).not.toBe(0);
    expect(status.stdout + status.stderr).toMatch(/SONDE_ERR_IDENTITY_BROKEN/);
  });
});
