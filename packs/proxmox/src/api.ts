import { SondeError, type ProbeContext, callApi, expectShape, type Query } from '@sonde/pack-sdk';
import { z } from 'zod';

/** Proxmox VE API paths this pack reads; the network permission allows exactly these globs. */
export const API_PATHS = [
  '/api2/json/version',
  '/api2/json/cluster/status',
  '/api2/json/cluster/resources',
  '/api2/json/cluster/tasks',
  '/api2/json/nodes',
  '/api2/json/nodes/*/storage',
] as const;

/** Proxmox's own node name format (pve-node). */
export const NodeName = z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'a Proxmox node name');

const TOKEN_ID = /^[A-Za-z0-9._-]{1,64}@[A-Za-z0-9._-]{1,64}![A-Za-z][A-Za-z0-9._-]{0,63}$/;
const TOKEN_SECRET = /^[A-Za-z0-9-]{8,128}$/;

/** API token auth: `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET` (no ticket, no CSRF token needed for GET). */
export function authHeaders(ctx: ProbeContext): Record<string, string> {
  const { tokenId, tokenSecret } = ctx.credentials;
  if (!tokenId || !tokenSecret) {
    throw new SondeError(
      'SONDE_ERR_PROBE_FAILED',
      'configure the Proxmox API token: credentials tokenId (user@realm!name) and tokenSecret',
    );
  }
  if (!TOKEN_ID.test(tokenId))
    throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured tokenId is not of the form user@realm!tokenname');
  if (!TOKEN_SECRET.test(tokenSecret))
    throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured tokenSecret is not a Proxmox token secret (UUID)');
  return { Authorization: `PVEAPIToken=${tokenId}=${tokenSecret}` };
}

/** GETs an API path and returns `data` of the `{ data }` envelope every Proxmox answer has. */
export async function getData<S extends z.ZodType>(ctx: ProbeContext, path: string, schema: S, query?: Query): Promise<z.infer<S>> {
  const response = await callApi(ctx, 'Proxmox', { path, query }, authHeaders(ctx));
  const envelope = expectShape(z.object({ data: z.unknown() }), response.body, `Proxmox ${path}`);
  return expectShape(schema, envelope.data, `Proxmox ${path}`);
}

export function percent(used: number | undefined, total: number | undefined): number | null {
  if (used === undefined || !total) return null;
  return Math.round((used / total) * 1000) / 10;
}

/** Proxmox encodes booleans as 0/1. */
export const Flag = z.union([z.literal(0), z.literal(1), z.boolean()]).transform((v) => v === 1 || v === true);
