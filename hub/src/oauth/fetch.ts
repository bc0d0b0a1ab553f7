import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Addresses a document the hub fetches on a client's say-so (a Client ID
 * Metadata Document, a client's jwks_uri) may not resolve to: loopback,
 * private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
 * multicast and the other special-use ranges.
 */
// Two lists: a BlockList matches an IPv4 address against IPv4-mapped IPv6 subnets too, so one list would mix them.
const SPECIAL_USE_V4 = new BlockList();
const SPECIAL_USE_V6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  SPECIAL_USE_V4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  SPECIAL_USE_V6.addSubnet(net, prefix, 'ipv6');

export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // An IPv4-mapped IPv6 address is the IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return SPECIAL_USE_V4.check(mapped[1], 'ipv4');
    // Any other IPv4-mapped form (hex) is refused rather than decoded.
    if (/^::ffff:/i.test(address)) return true;
    return SPECIAL_USE_V6.check(address, 'ipv6');
  }
  return SPECIAL_USE_V4.check(address, 'ipv4');
}

export class FetchRefused extends Error {
  readonly code = 'SONDE_ERR_OAUTH_FETCH_REFUSED';
}

export interface GuardedFetchOptions {
  /** `host:port` (lower-case) allowed although it resolves to a special-use address: tests and private PKI only. */
  allowPrivate: string[];
  /** Extra trusted CA certificates (PEM). */
  ca?: string;
}

/**
 * The `fetch` oidc-provider uses for everything it fetches: https only, no
 * redirects followed (the caller sees the 3xx), and the address checked after
 * DNS resolution, at connect time, so a name that resolves to a public address
 * for a check and a private one for the connection (DNS rebinding) gains nothing.
 * oidc-provider adds the timeout (2.5 s) and the size limit (5 KiB for a metadata document).
 */
export function guardedFetch(options: GuardedFetchOptions): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      if (url.protocol !== 'https:') {
        reject(new FetchRefused(`only https:// documents are fetched, not ${url.protocol}`));
        return;
      }
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      const port = url.port || '443';
      const privateAllowed = options.allowPrivate.includes(`${host}:${port}`);
      const refuse = (address: string) =>
        new FetchRefused(`${url.host} resolves to ${address}, a private or special-use address; the hub does not fetch from there`);
      if (isIP(host) && isSpecialUseAddress(host) && !privateAllowed) {
        reject(refuse(host));
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const request = https.request(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          signal: init.signal ?? undefined,
          ...(options.ca ? { ca: options.ca } : {}),
          lookup: (hostname, lookupOptions, callback) => {
            dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
              if (error) return callback(error, '', 0);
              const bad = addresses.find((a) => isSpecialUseAddress(a.address));
              if (bad && !privateAllowed) return callback(refuse(bad.address), '', 0);
              if ((lookupOptions as { all?: boolean }).all)
                return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
              return callback(null, addresses[0].address, addresses[0].family);
            });
          },
        },
        (response) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
          }
          const status = response.statusCode ?? 502;
          const body = status === 204 || status === 304 ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, headers: responseHeaders }));
        },
      );
      request.on('error', reject);
      request.end();
    });
}
