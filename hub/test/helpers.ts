import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig, type HubConfig } from '../src/config.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'correct-horse-battery';

export function tempDir(prefix = 'sonde-hub-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testEnv(dbPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SONDE_SECRET: TEST_SECRET,
    SONDE_DB_PATH: dbPath,
    SONDE_ADMIN_USER: ADMIN_USER,
    SONDE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SONDE_PORT: '0',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'silent',
    ...extra,
  };
}

export function testConfig(dbPath: string, extra: Record<string, string> = {}): HubConfig {
  return loadConfig(testEnv(dbPath, extra));
}

export interface TestHub {
  app: FastifyInstance;
  dir: string;
  config: HubConfig;
  /** Raw admin API key. */
  adminKey: string;
  memberKey: string;
  auth(key?: string): { authorization: string };
  close(): Promise<void>;
}

export async function startTestHub(extra: Record<string, string> = {}): Promise<TestHub> {
  const { dir, cleanup } = tempDir();
  const config = testConfig(path.join(dir, 'sonde.db'), extra);
  const app = await buildApp(config, { logger: false });
  await app.ready();
  const adminKey = (await app.core.apiKeys.create({ name: 'test-admin', role: 'admin' })).rawKey;
  const memberKey = (await app.core.apiKeys.create({ name: 'test-member', role: 'member' })).rawKey;
  return {
    app,
    dir,
    config,
    adminKey,
    memberKey,
    auth: (key = adminKey) => ({ authorization: `Bearer ${key}` }),
    close: async () => {
      await app.close();
      cleanup();
    },
  };
}

let sharedKey: { privateKeyPem: string; publicKeyPem: string } | undefined;

/** One RSA-2048 key per test process (key generation is the slow part); CSRs differ by name. */
export function agentKey(): { privateKeyPem: string; publicKeyPem: string } {
  if (!sharedKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    sharedKey = {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    };
  }
  return sharedKey;
}

/** A PKCS#10 CSR the way the agent makes one (node-forge, CN = name, signed with its key). */
export function makeCsr(name: string, key = agentKey()): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(key.publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: name }]);
  csr.sign(forge.pki.privateKeyFromPem(key.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** The same CSR with one bit of its signature flipped: it still parses but no longer verifies. */
export function tamperCsr(csrPem: string): string {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] = der[der.length - 5] ^ 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}
