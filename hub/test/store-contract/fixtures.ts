import { createAuditLog, type HubAuditLog } from '../../src/audit/audit-log.js';
import { createSealer } from '../../src/crypto/sealer.js';
import type { AgentRecord, ApiKeyRecord, HubStore, IntegrationPackVersionRecord, UserRecord } from '../../src/store/types.js';

/** Fixed keys, so every process of a race (and the verifying test) builds the same chain. */
export const AUDIT_KEY = Buffer.alloc(32, 7);
const SEAL_KEY = Buffer.alloc(32, 9);

export function contractAuditLog(store: HubStore): HubAuditLog {
  return createAuditLog(store, AUDIT_KEY, createSealer(new Map([['contract', SEAL_KEY]]), 'contract'));
}

export const iso = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

export function agentInput(id: string, name = id): Parameters<HubStore['agents']['create']>[0] {
  return {
    id,
    name,
    enrolledAt: iso(),
    certPem: `pem-${id}`,
    certSerial: `serial-${id}`,
    certNotAfter: iso(3_600_000),
    publicKeyPem: `pub-${id}`,
  };
}

export function apiKey(id: string, fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    name: `key-${id}`,
    type: 'user',
    role: 'member',
    hash: `hash-${id}`,
    prefix: `sonde_${id}`.slice(0, 12),
    policy: { allowedAgents: ['web-*'], allowedProbes: [], allowedClients: [] },
    agentId: null,
    createdAt: iso(),
    lastUsedAt: null,
    revokedAt: null,
    ownerUserId: null,
    ...fields,
  };
}

export function user(id: string, fields: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    name: `user-${id}`,
    email: null,
    role: 'member',
    enabled: true,
    createdAt: iso(),
    subject: null,
    displayName: null,
    origin: 'admin',
    groups: [],
    lastLoginAt: null,
    ...fields,
  };
}

export function packVersion(
  name: string,
  version: string,
  fields: Partial<IntegrationPackVersionRecord> = {},
): IntegrationPackVersionRecord {
  return {
    name,
    version,
    packageName: `@sonde/pack-${name}`,
    integrity: `sha256-${name}-${version}`,
    keyId: 'k1',
    publishedAt: iso(),
    manifest: { name, version, kind: 'integration', probes: [] } as unknown as IntegrationPackVersionRecord['manifest'],
    permissionsDigest: `digest-${version}`,
    dir: `/packs/${name}/${version}`,
    installedAt: iso(),
    installedBy: 'admin',
    state: 'pending',
    ...fields,
  };
}

export type { AgentRecord };
