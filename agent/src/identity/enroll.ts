import os from 'node:os';
import { EnrollRequestSchema, EnrollResponseSchema, type EnrollResponse } from '@sonde/pack-sdk/protocol';
import { AgentError, type AgentErrorCode } from '../errors.js';
import { agentVersion } from '../version.js';

const HUB_CODES: Partial<Record<string, AgentErrorCode>> = {
  SONDE_ERR_TOKEN_INVALID: 'SONDE_ERR_TOKEN_INVALID',
  SONDE_ERR_TOKEN_EXPIRED: 'SONDE_ERR_TOKEN_EXPIRED',
  SONDE_ERR_TOKEN_USED: 'SONDE_ERR_TOKEN_USED',
  SONDE_ERR_NAME_TAKEN: 'SONDE_ERR_NAME_TAKEN',
};

export function parseHubUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AgentError('SONDE_ERR_HUB_URL', `"${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AgentError('SONDE_ERR_HUB_URL', `unsupported scheme ${url.protocol}`);
  if (url.username || url.password) throw new AgentError('SONDE_ERR_HUB_URL', 'credentials in the URL are not allowed.');
  return url;
}

export function defaultAgentName(): string {
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return (host || 'agent').slice(0, 64);
}

/** `POST /api/v1/enroll`: only the CSR and the token leave the host. */
export async function requestEnrollment(
  hub: URL,
  token: string,
  name: string,
  csrPem: string,
  timeoutMs = 15_000,
): Promise<EnrollResponse> {
  const body = EnrollRequestSchema.safeParse({ name, csrPem, agentVersion: agentVersion() });
  if (!body.success) throw new AgentError('SONDE_ERR_ENROLL_REFUSED', `invalid agent name "${name}".`);
  const endpoint = new URL('api/v1/enroll', hub.href.endsWith('/') ? hub.href : `${hub.href}/`);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body.data),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new AgentError('SONDE_ERR_HUB_UNREACHABLE', `${endpoint.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}.`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', `${endpoint.href} answered HTTP ${response.status} without JSON.`);
  }
  if (response.status !== 201 && response.status !== 200) {
    const hubError = (json as { error?: { code?: unknown; message?: unknown } }).error;
    const code = typeof hubError?.code === 'string' ? hubError.code : undefined;
    const message = typeof hubError?.message === 'string' ? hubError.message : `HTTP ${response.status}`;
    if (!code) throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', `${endpoint.href} answered HTTP ${response.status}.`);
    throw new AgentError(HUB_CODES[code] ?? 'SONDE_ERR_ENROLL_REFUSED', `Hub said: ${message} (${code}).`);
  }
  const parsed = EnrollResponseSchema.safeParse(json);
  if (!parsed.success) throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', 'the enrollment answer does not match the protocol.');
  return parsed.data;
}
