import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  RenewResponseSchema,
  type EnrollResponse,
  type RenewRequest,
  type RenewResponse,
  type WireKeyOffer,
} from '@sonde/pack-sdk/protocol';
import { AgentError, type AgentErrorCode } from '../errors.js';
import { agentVersion } from '../version.js';

const HUB_CODES: Partial<Record<string, AgentErrorCode>> = {
  SONDE_ERR_TOKEN_INVALID: 'SONDE_ERR_TOKEN_INVALID',
  SONDE_ERR_TOKEN_EXPIRED: 'SONDE_ERR_TOKEN_EXPIRED',
  SONDE_ERR_TOKEN_USED: 'SONDE_ERR_TOKEN_USED',
  SONDE_ERR_NAME_TAKEN: 'SONDE_ERR_NAME_TAKEN',
};

/** 127.0.0.0/8, ::1 and localhost: plain HTTP there never leaves the host. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The hub URL for enrollment. Plain `http://` to anything but loopback is refused unless the operator says
 * `--insecure`: the one-time token would cross the network in clear, and the CA pinned from the answer
 * (every later connection trusts it) could be an attacker's.
 */
export function parseHubUrl(raw: string, options: { insecure?: boolean } = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AgentError('SONDE_ERR_HUB_URL', `"${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AgentError('SONDE_ERR_HUB_URL', `unsupported scheme ${url.protocol}`);
  if (url.username || url.password) throw new AgentError('SONDE_ERR_HUB_URL', 'credentials in the URL are not allowed.');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.insecure)
    throw new AgentError(
      'SONDE_ERR_HUB_URL',
      `${url.origin} is plain http:// to a host that is not this machine: the enrollment token would travel in clear and the CA pinned from the answer could be anyone's. Use https://, or pass --insecure on a network you trust.`,
    );
  return url;
}

export function defaultAgentName(): string {
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return (host || 'agent').slice(0, 64);
}

interface HttpAnswer {
  status: number;
  text: string;
}

/** node:http(s) rather than fetch: enrollment may pin a hub CA given on the command line. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: { caPem?: string; timeoutMs: number; clientCert?: { certPem: string; keyPem: string } },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const requestOptions = {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      timeout: options.timeoutMs,
    };
    const request =
      url.protocol === 'https:'
        ? https.request(url, {
            ...requestOptions,
            ...(options.caPem ? { ca: options.caPem } : {}),
            ...(options.clientCert ? { cert: options.clientCert.certPem, key: options.clientCert.keyPem } : {}),
            rejectUnauthorized: true,
          })
        : http.request(url, requestOptions);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 1024 * 1024) request.destroy(new Error('answer larger than 1 MiB'));
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end(body);
  });
}

/** `POST /api/v1/enroll`: only the CSR and the token leave the host. */
export async function requestEnrollment(
  hub: URL,
  token: string,
  name: string,
  csrPem: string,
  options: { caPem?: string; timeoutMs?: number; wireKey?: WireKeyOffer } = {},
): Promise<EnrollResponse> {
  const body = EnrollRequestSchema.safeParse({
    name,
    csrPem,
    agentVersion: agentVersion(),
    ...(options.wireKey ? { wireKey: options.wireKey } : {}),
  });
  if (!body.success) throw new AgentError('SONDE_ERR_ENROLL_REFUSED', `invalid agent name "${name}".`);
  const endpoint = new URL('api/v1/enroll', hub.href.endsWith('/') ? hub.href : `${hub.href}/`);
  let response: HttpAnswer;
  try {
    response = await post(endpoint, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify(body.data), {
      caPem: options.caPem,
      timeoutMs: options.timeoutMs ?? 15_000,
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    throw new AgentError('SONDE_ERR_HUB_UNREACHABLE', `${endpoint.origin}: ${failure.code ?? failure.message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.text);
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

/**
 * `POST /api/v1/agents/renew` over mTLS with the current certificate and the pinned hub CA: a new certificate
 * (and, when the hub signs with Ed25519, the agent's new wire key certified in it).
 */
export async function requestRenewal(
  hub: URL,
  body: RenewRequest,
  credentials: { caPem: string; certPem: string; keyPem: string },
  options: { timeoutMs?: number } = {},
): Promise<RenewResponse> {
  if (hub.protocol !== 'https:')
    throw new AgentError('SONDE_ERR_HUB_URL', `${hub.origin}: renewal authenticates with the client certificate, which needs https://.`);
  const endpoint = new URL('api/v1/agents/renew', hub.href.endsWith('/') ? hub.href : `${hub.href}/`);
  let response: HttpAnswer;
  try {
    response = await post(endpoint, { 'content-type': 'application/json' }, JSON.stringify(body), {
      caPem: credentials.caPem,
      clientCert: { certPem: credentials.certPem, keyPem: credentials.keyPem },
      timeoutMs: options.timeoutMs ?? 15_000,
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    throw new AgentError('SONDE_ERR_HUB_UNREACHABLE', `${endpoint.origin}: ${failure.code ?? failure.message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.text);
  } catch {
    throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', `${endpoint.href} answered HTTP ${response.status} without JSON.`);
  }
  if (response.status !== 200) {
    const hubError = (json as { error?: { code?: unknown; message?: unknown } }).error;
    const code = typeof hubError?.code === 'string' ? hubError.code : `HTTP ${response.status}`;
    const message = typeof hubError?.message === 'string' ? hubError.message : `HTTP ${response.status}`;
    throw new AgentError('SONDE_ERR_RENEW_REFUSED', `Hub said: ${message} (${code}).`);
  }
  const parsed = RenewResponseSchema.safeParse(json);
  if (!parsed.success) throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', 'the renewal answer does not match the protocol.');
  return parsed.data;
}
