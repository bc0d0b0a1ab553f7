import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HubError } from '../errors.js';
import type { AuditLog } from '../services.js';
import type { AuditEntryInput } from '../model.js';
import type { HubStore } from '../store/types.js';

/**
 * Consents ("connected apps"): the grants oidc-provider keeps per user and OAuth client, read and withdrawn straight
 * from the hub store, so the REST routes (routes.ts), the CLI (`sonde-hub oauth consents`) and the dashboard's
 * `<sonde-connected-apps>` see and do the same thing without starting the authorization server.
 */
export const ConsentSchema = z.object({
  id: z.string(),
  userId: z.string(),
  clientId: z.string(),
  clientName: z.string().nullable(),
  scopes: z.array(z.string()),
  createdAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
export type Consent = z.infer<typeof ConsentSchema>;

/** The adapter stores every record under the SHA-256 of its id (adapter.ts). */
const hashed = (id: string) => createHash('sha256').update(id).digest('hex');

interface GrantPayload {
  jti: string;
  accountId: string;
  clientId: string;
  iat?: number;
  exp?: number;
  resources?: Record<string, string>;
  openid?: { scope?: string };
}

/** A client's display name: its registration (DCR or a remembered metadata document), else the static list, else none. */
async function clientName(store: HubStore, clientId: string, staticNames: ReadonlyMap<string, string>): Promise<string | null> {
  const record = await store.oauth.get('Client', hashed(clientId));
  if (record) {
    const name = (JSON.parse(record.payload) as { client_name?: unknown }).client_name;
    if (typeof name === 'string') return name;
  }
  return staticNames.get(clientId) ?? null;
}

/** The live consents of one user, or of every user (`userId` undefined), oldest first. */
export async function listConsents(
  store: HubStore,
  userId: string | undefined,
  staticNames: ReadonlyMap<string, string> = new Map(),
): Promise<Consent[]> {
  const grants = await store.oauth.list('Grant', userId ? { userId } : {}, new Date().toISOString());
  const out: Consent[] = [];
  for (const record of grants) {
    const payload = JSON.parse(record.payload) as GrantPayload;
    out.push({
      id: payload.jti,
      userId: payload.accountId,
      clientId: payload.clientId,
      clientName: await clientName(store, payload.clientId, staticNames),
      scopes: [
        ...new Set([...(payload.openid?.scope?.split(' ') ?? []), ...Object.values(payload.resources ?? {}).flatMap((s) => s.split(' '))]),
      ].filter(Boolean),
      createdAt: payload.iat ? new Date(payload.iat * 1000).toISOString() : null,
      expiresAt: payload.exp ? new Date(payload.exp * 1000).toISOString() : null,
    });
  }
  return out;
}

/**
 * Withdraws a consent: the grant and every token and code issued under it go at once (the client's next call is
 * refused and it must ask again). `ownerId` limits it to that user's consents (another user's answers not found, as
 * if absent); undefined is an administrator's withdrawal of anyone's. One `oauth.consent.revoke` audit entry.
 */
export async function revokeConsent(
  store: HubStore,
  audit: AuditLog,
  actor: AuditEntryInput['actor'],
  id: string,
  ownerId: string | undefined,
): Promise<Consent> {
  const record = await store.oauth.get('Grant', hashed(id));
  const payload = record ? (JSON.parse(record.payload) as GrantPayload) : undefined;
  const live = record && (!record.expiresAt || Date.parse(record.expiresAt) > Date.now());
  if (!payload || !live || (ownerId !== undefined && payload.accountId !== ownerId))
    throw new HubError('SONDE_ERR_NOT_FOUND', 'No such consent.');
  const [consent] = (await listConsents(store, payload.accountId)).filter((c) => c.id === id);
  await store.oauth.removeWhere({ grantId: id });
  await store.oauth.remove('Grant', hashed(id));
  await audit.append({
    action: 'oauth.consent.revoke',
    actor,
    clientId: payload.clientId.slice(0, 200),
    status: 'ok',
    params: { grantId: id, userId: payload.accountId },
  });
  return (
    consent ?? { id, userId: payload.accountId, clientId: payload.clientId, clientName: null, scopes: [], createdAt: null, expiresAt: null }
  );
}
