import { randomUUID } from 'node:crypto';
import { randomToken, sha256Hex } from '../crypto/index.js';
import { HubError } from '../errors.js';
import type { EnrollmentTokenRecord, EnrollmentTokenStore } from '../store/types.js';

export const TOKEN_TTL_MS = 15 * 60_000;
export const TOKEN_PREFIX = 'sonde_enroll_';

export interface EnrollmentTokenView {
  id: string;
  /** First 8 characters of the token: the only part ever shown again. */
  prefix: string;
  boundName: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedBy: string | null;
  state: 'active' | 'used' | 'expired';
}

export function tokenView(r: EnrollmentTokenRecord, now = new Date()): EnrollmentTokenView {
  const state = r.usedAt ? 'used' : new Date(r.expiresAt) <= now ? 'expired' : 'active';
  return {
    id: r.id,
    prefix: `${r.prefix}…`,
    boundName: r.boundName,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    usedAt: r.usedAt,
    usedBy: r.usedBy,
    state,
  };
}

export interface EnrollmentTokenService {
  create(boundName?: string | null): Promise<{ token: string; view: EnrollmentTokenView }>;
  list(): Promise<EnrollmentTokenView[]>;
  revoke(id: string): Promise<void>;
  /**
   * Consumes the token for `agentName` atomically, or throws the precise reason
   * (invalid / expired / used / bound to another name).
   */
  consume(rawToken: string, agentName: string, tokens?: EnrollmentTokenStore): Promise<EnrollmentTokenRecord>;
}

export function createEnrollmentTokenService(store: EnrollmentTokenStore): EnrollmentTokenService {
  const tokens = store;
  return {
    async create(boundName = null) {
      // The random part starts with the display prefix's characters, so 8 shown characters carry 8 characters of entropy.
      const token = randomToken(32);
      const now = new Date();
      const record: EnrollmentTokenRecord = {
        id: randomUUID(),
        hash: sha256Hex(token),
        prefix: token.slice(0, 8),
        boundName,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + TOKEN_TTL_MS).toISOString(),
        usedAt: null,
        usedBy: null,
      };
      await tokens.create(record);
      return { token, view: tokenView(record, now) };
    },
    list: async () => {
      const now = new Date();
      return (await tokens.list()).map((r) => tokenView(r, now));
    },
    async revoke(id) {
      if (!(await tokens.list()).some((t) => t.id === id)) throw new HubError('SONDE_ERR_TOKEN_NOT_FOUND');
      await tokens.revoke(id);
    },
    async consume(rawToken, agentName, tokens = store) {
      const hash = sha256Hex(rawToken);
      const existing = await tokens.findByHash(hash);
      if (!existing) throw new HubError('SONDE_ERR_TOKEN_INVALID');
      if (existing.boundName !== null && existing.boundName !== agentName) {
        throw new HubError('SONDE_ERR_TOKEN_INVALID', 'The enrollment token is bound to another agent name.');
      }
      const now = new Date().toISOString();
      const consumed = await tokens.consume(hash, now, agentName);
      if (consumed) return consumed;
      // Lost the race or the token is spent/expired: say which.
      const after = await tokens.findByHash(hash);
      if (after?.usedAt) throw new HubError('SONDE_ERR_TOKEN_USED');
      if (after && after.expiresAt <= now) throw new HubError('SONDE_ERR_TOKEN_EXPIRED');
      throw new HubError('SONDE_ERR_TOKEN_INVALID');
    },
  };
}
