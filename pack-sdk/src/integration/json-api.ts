import { SondeError } from '../errors.js';
import type { ProbeContext } from '../runtime/context.js';
import type { z } from 'zod';

/**
 * The one way an integration pack talks to its product's JSON API: the URL is
 * the configured endpoint's origin plus a fixed path built from validated
 * pieces, query values go through URLSearchParams, redirects and non-JSON
 * answers become clear errors, and no credential value ever appears in a
 * message. Shared here because packs may import only pack-sdk and were
 * otherwise each carrying an identical copy.
 */

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiCall {
  /** Absolute path; only fixed text and values matched by a strict regex go in here. */
  path: string;
  query?: Query;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  maxBytes?: number;
  timeoutMs?: number;
  /** The body carries a secret (a token request): the same https-only rule applies as for auth headers. */
  credentialsInBody?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/i;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

export function endpointOrigin(ctx: ProbeContext, product: string): URL {
  if (!ctx.endpoint) {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', `no ${product} endpoint is configured for this integration instance`);
  }
  let url: URL;
  try {
    url = new URL(ctx.endpoint);
  } catch {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', `the configured ${product} endpoint is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', `the configured ${product} endpoint must be an http or https URL`);
  }
  return new URL(url.origin);
}

export function buildUrl(origin: URL, path: string, query?: Query): URL {
  const url = new URL(path, origin);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.append(key, String(value));
  url.search = params.toString();
  return url;
}

/** Replaces every secret in `text`, so an echoing server cannot leak one through an error message. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const value of secrets) if (value && value.length >= 4) out = out.split(value).join('[redacted]');
  return out;
}

/** Credential values plus the auth header values we sent and their token parts (`Basic <b64>`, `CwsAuth Bearer=<t>`). */
function secretsOf(credentials: Readonly<Record<string, string>>, auth: Record<string, string>): string[] {
  const secrets = [...Object.values(credentials)];
  for (const value of Object.values(auth)) {
    secrets.push(value, value.slice(value.indexOf(' ') + 1), value.slice(value.lastIndexOf('=') + 1), value.slice(value.indexOf('=') + 1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

/** A product's error text from a JSON error body, if it has one of the usual shapes. */
function errorText(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.trim() ? body.trim().replace(/\s+/g, ' ') : undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['errorType', 'error', 'message', 'Message', 'ErrorMessage', 'errors', 'detail']) {
    const value = record[key];
    if (typeof value === 'string') parts.push(value);
    else if (value && typeof value === 'object') {
      const inner = value as Record<string, unknown>;
      if (typeof inner.message === 'string') parts.push(inner.message);
      if (typeof inner.detail === 'string' && inner.detail) parts.push(inner.detail);
      if (!('message' in inner)) parts.push(JSON.stringify(value));
    }
  }
  return parts.length ? parts.join(': ') : undefined;
}

/**
 * Sends one request and returns the parsed JSON body of a 2xx answer. `auth`
 * headers are added here only, and only over https or to a loopback address.
 */
export async function callApi(ctx: ProbeContext, product: string, call: ApiCall, auth: Record<string, string> = {}): Promise<ApiResponse> {
  const origin = endpointOrigin(ctx, product);
  const url = buildUrl(origin, call.path, call.query);
  if ((Object.keys(auth).length > 0 || call.credentialsInBody) && url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
    throw new SondeError(
      'SONDE_ERR_PERMISSION_DENIED',
      `${product}: credentials are only sent over https (or to a loopback address); change the endpoint to https://${url.host}`,
    );
  }
  const where = `${product} ${call.method ?? 'GET'} ${url.pathname}`;
  const response = await ctx.http(url.href, {
    method: call.method ?? 'GET',
    headers: { Accept: 'application/json', ...call.headers, ...auth },
    body: call.body,
    maxBytes: call.maxBytes ?? DEFAULT_MAX_BYTES,
    timeoutMs: call.timeoutMs,
  });
  const secrets = secretsOf(ctx.credentials, auth);
  const safe = (text: string): string => redact(text, secrets).slice(0, 300);
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.location ?? response.headers.Location;
    let target = '';
    try {
      if (location) target = ` to ${new URL(location, url).origin}${new URL(location, url).pathname}`;
    } catch {
      target = '';
    }
    throw new SondeError(
      'SONDE_ERR_HTTP_FAILED',
      safe(`${where} redirected (${response.status})${target}; redirects are not followed: configure the final URL as the endpoint`),
      { status: response.status },
    );
  }
  if (response.status === 401 || response.status === 403) {
    const detail = errorText(response.body);
    throw new SondeError(
      'SONDE_ERR_HTTP_FAILED',
      safe(
        `${where} answered ${response.status}: ${response.status === 401 ? 'authentication failed, check the credentials configured for this instance' : 'the configured account may not read this'}${detail ? ` (${detail})` : ''}`,
      ),
      { status: response.status },
    );
  }
  if (response.status < 200 || response.status >= 300) {
    const detail = errorText(response.body);
    throw new SondeError('SONDE_ERR_HTTP_FAILED', safe(`${where} answered ${response.status}${detail ? `: ${detail}` : ''}`), {
      status: response.status,
    });
  }
  if (response.truncated) {
    throw new SondeError(
      'SONDE_ERR_OUTPUT_LIMIT',
      `${where}: the answer is larger than ${call.maxBytes ?? DEFAULT_MAX_BYTES} bytes; narrow the request`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    const type = response.headers['content-type'] ?? 'no content type';
    throw new SondeError('SONDE_ERR_HTTP_FAILED', safe(`${where} did not answer JSON (${type}): ${response.body.slice(0, 80)}`), {
      status: response.status,
    });
  }
  return { status: response.status, headers: response.headers, body };
}

/** Checks a product answer against the documented shape the pack relies on. */
export function expectShape<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SondeError(
      'SONDE_ERR_HTTP_FAILED',
      `${what}: unexpected answer shape (${first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'invalid'})`,
    );
  }
  return parsed.data;
}
