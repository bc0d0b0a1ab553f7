import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { headerValue, sendJsonRpcError } from './http.js';

/**
 * DNS-rebinding protection for `/mcp` (MCP transport spec, "Security Warning"): a page on an attacker's name that
 * re-resolves to the hub makes the browser send the attacker's name as `Host` and its page as `Origin`. So a request is
 * refused (403) when its `Host` is not a name of this hub, or its `Origin`, when present, is not a page of this hub.
 * Clients outside a browser (CLIs, SDKs, bridges) send no `Origin` and the hub's own `Host`: nothing changes for them.
 *
 * The hub's names: the host of SONDE_PUBLIC_URL, SONDE_MCP_ALLOWED_HOSTS and the loopback names. Loopback names and
 * IP addresses are always accepted as `Host`: rebinding needs a DNS name under the attacker's control, which neither is,
 * and a hub in a container (SONDE_HOST=0.0.0.0) is reached as localhost or by address.
 */
export interface HostCheckOptions {
  /** SONDE_PUBLIC_URL, when configured (not the address-derived fallback). */
  publicUrl: string | undefined;
  /** SONDE_MCP_ALLOWED_HOSTS: further host names (a reverse proxy's, a second DNS name). */
  allowedHosts: readonly string[];
}

const LOOPBACK_NAMES = ['localhost'];

/** The host name of a `Host` value or origin's host part (`name:port`, `[v6]:port`), lower case, no brackets. */
function hostnameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

export function allowedHostnames(options: HostCheckOptions): Set<string> {
  const names = new Set(options.allowedHosts.map((h) => hostnameOf(h.trim())).filter((h): h is string => Boolean(h)));
  if (options.publicUrl) names.add(new URL(options.publicUrl).hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  for (const name of LOOPBACK_NAMES) names.add(name);
  return names;
}

/** `undefined` when the request may go on, otherwise why it is refused. */
export function rebindingRefusal(names: ReadonlySet<string>, host: string | undefined, origin: string | undefined): string | undefined {
  const hostname = host === undefined ? undefined : hostnameOf(host);
  if (!hostname || !(names.has(hostname) || isIP(hostname) !== 0))
    return `Host "${host ?? ''}" is not a name of this hub (DNS-rebinding protection); set SONDE_PUBLIC_URL or SONDE_MCP_ALLOWED_HOSTS`;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    const url = new URL(origin);
    originHost = /^https?:$/.test(url.protocol) ? url.host : undefined;
  } catch {
    originHost = undefined;
  }
  // A page of this hub: the same host it called (same origin), or one of the hub's names.
  const originName = originHost === undefined ? undefined : hostnameOf(originHost);
  if (originName && (originHost === host?.toLowerCase() || names.has(originName))) return undefined;
  return `Origin "${origin}" is not allowed to call this MCP endpoint (DNS-rebinding protection)`;
}

/** An `onRequest` hook for the MCP routes: 403 with a JSON-RPC error before authentication. */
export function rebindingGuard(options: HostCheckOptions) {
  const names = allowedHostnames(options);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const refusal = rebindingRefusal(names, request.host, headerValue(request.headers.origin));
    return refusal ? sendJsonRpcError(reply, 403, 'SONDE_ERR_FORBIDDEN_ORIGIN', refusal) : undefined;
  };
}
