import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { bearerToken, sha256Hex } from './authenticate.js';

/**
 * Who is knocking on `/ws/agent`, as far as the hub can tell before it looks any credential up: the key of the
 * admission gate's fair share (admission.ts, `PLACES_PER_CALLER`). Chosen so that one misbehaving identity gets one
 * share while a fleet behind one NAT or load balancer address gets a share per agent:
 *
 * 1. A client certificate the TLS layer verified against the hub CA (`authorized`): proof of the private key, so
 *    nobody can use another's, and whoever holds it gets one share whatever else they send. Keyed by fingerprint.
 * 2. Else the bearer key, by its SHA-256 (the hash the store is searched by; the key itself is never kept). A key can be
 *    invented, but an invalid one holds its place only while it is looked up (it is answered 401 and counted against
 *    its source by the refusal limiter), so inventing keys buys no lasting place; a valid key, stolen or misused,
 *    is one share.
 * 3. Else (no credential, or a malformed one) the source address: such a socket is refused 401 without a lookup, so
 *    the address only bounds how many of them are in flight. No honest agent connects without a credential, so
 *    sharing an address's share (many clients behind one proxy) costs no agent anything; for the same reason
 *    `X-Forwarded-For` is not read here: the address is never the key of an agent that carries a credential, which is
 *    what keeps 10,000 agents behind one address from being throttled as one.
 */
export function admissionCaller(request: IncomingMessage): string {
  const socket = request.socket as Partial<TLSSocket>;
  if (socket.encrypted && socket.authorized === true && typeof socket.getPeerCertificate === 'function') {
    const fingerprint = socket.getPeerCertificate.call(socket).fingerprint256;
    if (fingerprint) return `cert:${fingerprint}`;
  }
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== null) return `key:${sha256Hex(bearer)}`;
  return `addr:${request.socket.remoteAddress ?? 'unknown'}`;
}
