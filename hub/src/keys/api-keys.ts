import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { randomToken, sha256Hex } from '../crypto/index.js';
import { HubError } from '../errors.js';
import { validateGlob } from '../policy/pdp.js';
import type { KeyPolicy, Principal, Role } from '../services.js';
import type { ApiKeyRecord, ApiKeyStore } from '../store/types.js';

export const API_KEY_PREFIX = 'sonde_';
/** Characters kept for listings: `sonde_` plus 6 of the random part; useless for guessing the rest. */
const DISPLAY_CHARS = 12;
/** last_used_at is written at most this often per key, so authentication is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

const glob = z.string().superRefine((value, ctx) => {
  const problem = validateGlob(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const KeyPolicySchema = z
  .object({
    allowedAgents: z.array(glob).max(100).default([]),
    allowedProbes: z.array(glob).max(100).default([]),
    allowedClients: z.array(z.string().min(1).max(200)).max(100).default([]),
  })
  .strict();

export const RoleSchema = z.enum(['admin', 'member']);
export const KeyNameSchema = z.string().trim().min(1).max(100);

/** What listings show: never the hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  type: ApiKeyRecord['type'];
  role: Role;
  prefix: string;
  policy: KeyPolicy;
  agentId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** Set for a user's own key ("my keys"). */
  ownerUserId: string | null;
}

export function keyView(r: ApiKeyRecord): ApiKeyView {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    role: r.role,
    prefix: r.prefix,
    policy: r.policy,
    agentId: r.agentId,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
    ownerUserId: r.ownerUserId ?? null,
  };
}

function mint(): { raw: string; hash: string; prefix: string } {
  const raw = API_KEY_PREFIX + randomToken(32);
  return { raw, hash: sha256Hex(raw), prefix: raw.slice(0, DISPLAY_CHARS) };
}

export interface ApiKeyService {
  create(
    input: {
      name: string;
      role: Role;
      policy?: Partial<KeyPolicy>;
      type?: 'user' | 'agent';
      agentId?: string | null;
      ownerUserId?: string | null;
    },
    keys?: ApiKeyStore,
  ): Promise<{ key: ApiKeyView; rawKey: string }>;
  list(): Promise<ApiKeyView[]>;
  /** By id or (unique, unrevoked) name. The optional store is a transaction's (`tx.apiKeys`). */
  find(idOrName: string, keys?: ApiKeyStore): Promise<ApiKeyRecord>;
  rotate(idOrName: string, keys?: ApiKeyStore): Promise<{ key: ApiKeyView; rawKey: string }>;
  revoke(idOrName: string, keys?: ApiKeyStore): Promise<ApiKeyView>;
  /** User keys only (never agent keys): MCP and REST. */
  authenticateUser(rawKey: string): Promise<Principal | undefined>;
  /** Agent keys only: the `/ws/agent` gateway. */
  authenticateAgent(rawKey: string): Promise<ApiKeyRecord | undefined>;
}

export interface ApiKeyServiceOptions {
  /** Whether the owner of a user's own key may still act (exists, enabled, still authorized); checked on every use. */
  ownerActive?: (userId: string) => Promise<boolean>;
}

export function createApiKeyService(store: ApiKeyStore, options: ApiKeyServiceOptions = {}): ApiKeyService {
  const keys = store;
  const lastTouch = new Map<string, number>();

  async function lookup(rawKey: string): Promise<ApiKeyRecord | undefined> {
    if (!rawKey.startsWith(API_KEY_PREFIX) || rawKey.length > 200) return undefined;
    const record = await keys.findByHash(sha256Hex(rawKey));
    if (!record || record.revokedAt) return undefined;
    const now = Date.now();
    if ((lastTouch.get(record.id) ?? 0) + TOUCH_INTERVAL_MS < now) {
      lastTouch.set(record.id, now);
      await keys.touch(record.id, new Date(now).toISOString());
    }
    return record;
  }

  async function find(idOrName: string, keys = store): Promise<ApiKeyRecord> {
    const byId = await keys.getById(idOrName);
    if (byId) return byId;
    const named = (await keys.list()).filter((k) => k.name === idOrName && !k.revokedAt);
    if (named.length === 1) return named[0];
    if (named.length > 1) throw new HubError('SONDE_ERR_CONFLICT', `several active keys are named "${idOrName}"; use the key id`);
    throw new HubError('SONDE_ERR_KEY_NOT_FOUND', `no API key with id or name "${idOrName}"`);
  }

  return {
    async create({ name, role, policy, type = 'user', agentId = null, ownerUserId = null }, store = keys) {
      const parsedPolicy = KeyPolicySchema.parse(policy ?? {});
      const { raw, hash, prefix } = mint();
      const record: ApiKeyRecord = {
        id: randomUUID(),
        name,
        type,
        role: type === 'agent' ? 'member' : role,
        hash,
        prefix,
        policy: parsedPolicy,
        agentId,
        createdAt: new Date().toISOString(),
        lastUsedAt: null,
        revokedAt: null,
        ownerUserId,
      };
      await store.create(record);
      return { key: keyView(record), rawKey: raw };
    },
    list: async () => (await keys.list()).map(keyView),
    find,
    async rotate(idOrName, keys = store) {
      const record = await find(idOrName, keys);
      if (record.revokedAt) throw new HubError('SONDE_ERR_CONFLICT', `key "${record.name}" is revoked; create a new one`);
      const { raw, hash, prefix } = mint();
      if (!(await keys.rotate(record.id, record.hash, hash, prefix)))
        throw new HubError('SONDE_ERR_CONFLICT', `key "${record.name}" was rotated or revoked meanwhile; read it again`);
      return { key: keyView({ ...record, hash, prefix }), rawKey: raw };
    },
    async revoke(idOrName, keys = store) {
      const record = await find(idOrName, keys);
      const at = new Date().toISOString();
      await keys.revoke(record.id, at);
      return keyView({ ...record, revokedAt: record.revokedAt ?? at });
    },
    async authenticateUser(rawKey) {
      const record = await lookup(rawKey);
      if (!record || record.type !== 'user') return undefined;
      // A user's own key stops with its owner: disabled, removed, or no longer in an authorized group.
      if (record.ownerUserId && !(await (options.ownerActive?.(record.ownerUserId) ?? Promise.resolve(false)))) return undefined;
      return { kind: 'api_key', id: record.id, name: record.name, role: record.role, policy: record.policy };
    },
    async authenticateAgent(rawKey) {
      const record = await lookup(rawKey);
      return record && record.type === 'agent' ? record : undefined;
    },
  };
}
