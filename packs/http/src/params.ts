import { z } from 'zod';

const ENCODED_ESCAPES = /%(?:2e|2f|5c|00)/i;

/**
 * A path on the configured endpoint: absolute, normalised, only RFC 3986 path
 * characters, no query or fragment (those go through `query`), and no encoded
 * dot, slash, backslash or NUL that a server might decode into a traversal.
 */
export const RelativePath = z
  .string()
  .max(1024)
  .regex(/^\/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*$/, 'an absolute path of URL path characters, without ? or #')
  .refine((p) => !p.includes('//'), 'no empty segments')
  .refine((p) => !p.split('/').some((segment) => segment === '.' || segment === '..'), 'no . or .. segments')
  .refine((p) => !ENCODED_ESCAPES.test(p), 'no encoded dot, slash, backslash or NUL');

function hasControl(value: string): boolean {
  return [...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
}

/** Query parameters, encoded with URLSearchParams so a value can never become another parameter. */
export const QueryParams = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.[\]-]{1,64}$/, 'parameter names are letters, digits, _ . - [ ]'),
    z
      .string()
      .max(512)
      .refine((v) => !hasControl(v), 'no control characters'),
  )
  .refine((q) => Object.keys(q).length <= 20, 'at most 20 parameters');

/** Only headers that describe the answer; never Set-Cookie or anything that could carry a session. */
export const SAFE_RESPONSE_HEADERS = [
  'age',
  'cache-control',
  'content-encoding',
  'content-length',
  'content-type',
  'date',
  'etag',
  'last-modified',
  'location',
  'retry-after',
  'server',
  'x-total-count',
] as const;

export function safeHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SAFE_RESPONSE_HEADERS) if (headers[name] !== undefined) out[name] = headers[name];
  return out;
}
