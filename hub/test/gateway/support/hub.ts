import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAgentGateway } from '../../../src/gateway/index.js';
import { sha256Hex } from '../../../src/gateway/authenticate.js';
import type { AgentGateway } from '../../../src/gateway/types.js';
import { AgentDirectory } from '../../../src/fleet/directory.js';
import { openHubStore } from '../../../src/store/open.js';
import type { HubStore } from '../../../src/store/types.js';
import { MemoryAudit } from './memory-audit.js';
import { createTestCa, pooledRsa, warmRsa, type TestCa } from './pki.js';

export interface EnrolledAgent {
  id: string;
  name: string;
  apiKey: string;
  keyId: string;
  /** The key frames are signed with: the certificate's RSA key, or the Ed25519 wire key of an Ed25519 agent. */
  privateKeyPem: string;
  publicKeyPem: string;
  /** The certificate's RSA key (mTLS); absent = `privateKeyPem` (an RSA agent). */
  tlsKeyPem?: string;
  certPem: string;
  serial: string;
  /** What the agent verifies hub frames with: the hub's Ed25519 wire key, or (absent) the CA certificate as RSA agents do. */
  hubKey?: string | KeyObject;
}

export interface TestHub {
  app: FastifyInstance;
  gateway: AgentGateway;
  store: HubStore;
  /** The store's file (a second store instance on it writes like the headless CLI). */
  dbPath: string;
  directory: AgentDirectory;
  audit: MemoryAudit;
  ca: TestCa;
  /** `ws://127.0.0.1:PORT/ws/agent` or `wss://…`. */
  wsUrl: string;
  heartbeatMs: number;
  /** Parsed pino lines the hub logged. */
  logs: Array<{ level: number; msg: string; [key: string]: unknown }>;
  /** An agent on RSA-SHA256 (as enrolled before Ed25519) unless `wire: 'ed25519'`. */
  enroll(name: string, options?: { wire?: 'ed25519' | 'rsa-sha256' }): Promise<EnrolledAgent>;
  /** The hub's Ed25519 wire key (private). */
  wireKey: KeyObject;
  /** A user-type key (must never open `/ws/agent`). */
  userKey(): Promise<string>;
  close(): Promise<void>;
}

export interface TestHubOptions {
  heartbeatMs?: number;
  tls?: boolean;
  registerTimeoutMs?: number;
  /** SONDE_AGENT_ADMISSION_MAX: sockets admitted at once before they register (unset: no limit). */
  admissionMax?: number;
  /** How many agent keys to generate up front, off the event loop (default 20); more are made on demand. */
  agents?: number;
}

/** A real Fastify server on 127.0.0.1:0 with the gateway registered, as app.ts will do. */
export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  await warmRsa(Array.from({ length: 2 + (options.agents ?? 20) }, (_, slot) => slot));
  const ca = createTestCa();
  const dir = mkdtempSync(path.join(tmpdir(), 'sonde-gateway-'));
  const dbPath = path.join(dir, 'hub.db');
  const store = await openHubStore(dbPath);
  const directory = await AgentDirectory.open(store);
  const audit = new MemoryAudit();
  const logs: TestHub['logs'] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  });
  const server = options.tls ? ca.issueServer() : undefined;
  const app = Fastify({
    logger: { level: 'debug', stream },
    ...(server
      ? { https: { key: server.keyPem, cert: server.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false } }
      : {}),
  }) as unknown as FastifyInstance;
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const wireKey = generateKeyPairSync('ed25519').privateKey;
  const gateway = createAgentGateway({
    store,
    directory,
    signingKey: ca.key,
    wireKey,
    audit,
    log: app.log,
    hubVersion: '0.1.0-test',
    heartbeatIntervalMs: heartbeatMs,
    caCertPem: ca.certPem,
    ...(options.registerTimeoutMs ? { registerTimeoutMs: options.registerTimeoutMs } : {}),
    ...(options.admissionMax !== undefined ? { admissionMax: options.admissionMax } : {}),
  });
  await gateway.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  let enrolled = 0;
  const wsUrl = `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${address.port}/ws/agent`;

  return {
    app,
    gateway,
    store,
    dbPath,
    directory,
    audit,
    ca,
    wsUrl,
    heartbeatMs,
    logs,
    wireKey,
    async enroll(name, enrollOptions = {}) {
      const keys = pooledRsa(2 + enrolled++);
      const { certPem, serial } = ca.issueClient(name, keys.publicKeyPem);
      const ed = enrollOptions.wire === 'ed25519' ? generateKeyPairSync('ed25519') : undefined;
      const frameKeys = ed
        ? {
            privateKeyPem: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
            publicKeyPem: ed.publicKey.export({ type: 'spki', format: 'pem' }) as string,
          }
        : { privateKeyPem: keys.privateKeyPem, publicKeyPem: keys.publicKeyPem };
      const id = randomUUID();
      await store.agents.create({
        id,
        name,
        enrolledAt: new Date().toISOString(),
        certPem,
        certSerial: serial,
        certNotAfter: new Date(Date.now() + 365 * 86_400_000).toISOString(),
        publicKeyPem: frameKeys.publicKeyPem,
      });
      const apiKey = `sonde_agent_${randomBytes(24).toString('base64url')}`;
      const keyId = randomUUID();
      await store.apiKeys.create({
        id: keyId,
        name: `agent:${name}`,
        type: 'agent',
        role: 'member',
        hash: sha256Hex(apiKey),
        prefix: apiKey.slice(0, 8),
        policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
        agentId: id,
        createdAt: new Date().toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      });
      return {
        id,
        name,
        apiKey,
        keyId,
        ...frameKeys,
        tlsKeyPem: keys.privateKeyPem,
        certPem,
        serial,
        hubKey: ed ? wireKey : ca.certPem,
      };
    },
    async userKey() {
      const raw = `sonde_${randomBytes(24).toString('base64url')}`;
      await store.apiKeys.create({
        id: randomUUID(),
        name: 'admin key',
        type: 'user',
        role: 'admin',
        hash: sha256Hex(raw),
        prefix: raw.slice(0, 8),
        policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
        agentId: null,
        createdAt: new Date().toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      });
      return raw;
    },
    async close() {
      await app.close();
      directory.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
