import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../crypto/index.js';
import type { Principal } from '../services.js';
import { effectiveRole } from '../identity/roles.js';
import type { HubStore } from '../store/types.js';

export const SESSION_COOKIE = 'sonde_session';
export const SESSION_TTL_MS = 8 * 60 * 60_000;
/** Sliding expiry is written at most once a minute per session. */
const EXTEND_AFTER_MS = 60_000;

export interface SessionService {
  /** Returns the raw session id (goes only into the cookie). */
  create(userId: string): Promise<{ id: string; expiresAt: Date }>;
  /** Resolves a raw id to its user principal, extending the 8 h window; undefined when unknown, expired or the user is disabled. */
  resolve(rawId: string): Promise<Principal | undefined>;
  destroy(rawId: string): Promise<void>;
}

export function createSessionService(store: Pick<HubStore, 'sessions' | 'users' | 'authorizedGroups'>): SessionService {
  return {
    async create(userId) {
      const id = randomBytes(32).toString('base64url');
      const now = Date.now();
      const expiresAt = new Date(now + SESSION_TTL_MS);
      await store.sessions.removeExpired(new Date(now).toISOString());
      await store.sessions.create({
        hash: sha256Hex(id),
        userId,
        createdAt: new Date(now).toISOString(),
        expiresAt: expiresAt.toISOString(),
      });
      return { id, expiresAt };
    },
    async resolve(rawId) {
      if (rawId.length !== 43) return undefined;
      const hash = sha256Hex(rawId);
      const session = await store.sessions.get(hash);
      const now = Date.now();
      if (!session) return undefined;
      if (new Date(session.expiresAt).getTime() <= now) {
        await store.sessions.remove(hash);
        return undefined;
      }
      const user = await store.users.getById(session.userId);
      if (!user || !user.enabled) return undefined;
      // Worked out on every request: a role change, a group's new default role or a removed group applies now.
      const role =
        user.origin === 'admin' && user.groups.length === 0 ? user.role : effectiveRole(user, await store.authorizedGroups.list());
      if (!role) return undefined;
      if (new Date(session.expiresAt).getTime() - now < SESSION_TTL_MS - EXTEND_AFTER_MS) {
        await store.sessions.extend(hash, new Date(now + SESSION_TTL_MS).toISOString());
      }
      return {
        kind: 'user',
        id: user.id,
        name: user.name,
        role,
        policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
      };
    },
    async destroy(rawId) {
      await store.sessions.remove(sha256Hex(rawId));
    },
  };
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !(name in out)) out[name] = value;
  }
  return out;
}

export function sessionCookie(id: string, options: { secure: boolean; maxAgeS: number }): string {
  return [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${options.maxAgeS}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
