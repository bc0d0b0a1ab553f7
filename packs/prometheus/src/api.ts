import { SondeError, type ProbeContext, callApi, expectShape, type Query } from '@sonde/pack-sdk';
import { z } from 'zod';

/** Prometheus HTTP API v1 paths this pack reads (the network permission allows exactly these). */
export const API_PATHS = {
  targets: '/api/v1/targets',
  alerts: '/api/v1/alerts',
  rules: '/api/v1/rules',
  query: '/api/v1/query',
  buildinfo: '/api/v1/status/buildinfo',
  tsdb: '/api/v1/status/tsdb',
} as const;

const Envelope = z.object({ status: z.literal('success'), data: z.unknown(), warnings: z.array(z.string()).optional() });

/** An optional bearer token (Prometheus behind an authenticating proxy); never sent over plain http except to loopback. */
export function authHeaders(ctx: ProbeContext): Record<string, string> {
  const token = ctx.credentials.bearerToken;
  if (!token) return {};
  if (!/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured bearerToken contains characters a header cannot carry');
  }
  return { Authorization: `Bearer ${token}` };
}

/** GETs an API path and returns `data` of the `{status: "success", data}` envelope. */
export async function getData(
  ctx: ProbeContext,
  path: (typeof API_PATHS)[keyof typeof API_PATHS],
  query?: Query,
): Promise<{ data: unknown; warnings: string[] }> {
  const response = await callApi(ctx, 'Prometheus', { path, query }, authHeaders(ctx));
  const envelope = expectShape(Envelope, response.body, `Prometheus ${path}`);
  return { data: envelope.data, warnings: envelope.warnings ?? [] };
}

/** Prometheus sample values are strings ("1", "NaN", "+Inf"); JSON numbers cannot hold the special ones. */
export function sampleValue(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
