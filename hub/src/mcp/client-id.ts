import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Header a client (or its operator, e.g. `mcp-remote --header`) may set to name itself on every request. */
export const CLIENT_HEADER = 'x-sonde-client';
export const SESSION_HEADER = 'mcp-session-id';

const CLIENT_ID_PATTERN = /^[\x20-\x7e]{1,128}$/;

export type ClientIdSource = 'header' | 'initialize' | 'session' | 'none';

/**
 * Remembers a client's self-declared name across stateless requests without
 * server state: the initialize response carries `Mcp-Session-Id`, an HMAC-signed
 * token naming the client and the key, which MCP clients echo on every later
 * request. A token that does not verify (another hub's, or from before a
 * restart) is ignored rather than answered with 404, because not every client
 * re-initialises on 404; such a request simply has no client id.
 */
export class ClientSessions {
  private readonly secret: KeyObject;

  constructor(secret: Buffer) {
    // A KeyObject once: on Node 24 an HMAC keyed with a raw Buffer costs ~24 µs against ~4 µs.
    this.secret = createSecretKey(secret);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  issue(keyId: string, clientId: string): string {
    const payload = Buffer.from(JSON.stringify({ k: keyId, c: clientId })).toString('base64url');
    return `s1.${payload}.${this.sign(payload)}`;
  }

  read(token: string | undefined, keyId: string): string | undefined {
    if (!token || token.length > 1024) return undefined;
    const [version, payload, mac] = token.split('.');
    if (version !== 's1' || !payload || !mac) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k?: unknown; c?: unknown };
      // A token minted for another key says nothing about this caller.
      if (decoded.k !== keyId || typeof decoded.c !== 'string') return undefined;
      return decoded.c;
    } catch {
      return undefined;
    }
  }
}

function asMessages(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/** Where a 2026-07-28 request names its client, on every request (there is no initialize). */
const CLIENT_INFO_META = 'io.modelcontextprotocol/clientInfo';

/** `clientInfo.name` of an initialize request in this POST body, or of a 2026-07-28 request's `_meta` envelope, if any. */
export function initializeClientName(body: unknown): string | undefined {
  for (const message of asMessages(body)) {
    if (!message || typeof message !== 'object') continue;
    const m = message as { method?: unknown; params?: { clientInfo?: { name?: unknown }; _meta?: Record<string, unknown> } };
    if (m.method === 'initialize' && typeof m.params?.clientInfo?.name === 'string') return m.params.clientInfo.name;
    const meta = m.params?._meta?.[CLIENT_INFO_META] as { name?: unknown } | undefined;
    if (meta && typeof meta.name === 'string') return meta.name;
  }
  return undefined;
}

export function isInitialize(body: unknown): boolean {
  return asMessages(body).some((m) => !!m && typeof m === 'object' && (m as { method?: unknown }).method === 'initialize');
}

/**
 * The client id the policy checks: the `X-Sonde-Client` header when present
 * (explicit, on every request), else `clientInfo.name` of this initialize
 * request (or of this 2026-07-28 request's envelope), else the name carried by
 * a valid session token.
 */
export function resolveClientId(
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  sessions: ClientSessions,
  keyId: string,
): { clientId: string | undefined; source: ClientIdSource } {
  const header = headers[CLIENT_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader && CLIENT_ID_PATTERN.test(fromHeader)) return { clientId: fromHeader, source: 'header' };
  const fromInit = initializeClientName(body);
  if (fromInit !== undefined) return { clientId: fromInit.replace(/[^\x20-\x7e]/g, '?').slice(0, 128) || '?', source: 'initialize' };
  const session = headers[SESSION_HEADER];
  const fromSession = sessions.read(Array.isArray(session) ? session[0] : session, keyId);
  if (fromSession !== undefined) return { clientId: fromSession, source: 'session' };
  return { clientId: undefined, source: 'none' };
}

/** The tools/call requests in a POST body, for auditing calls refused before they reach the MCP server. */
export function toolCalls(body: unknown): Array<{ name: string; arguments: unknown }> {
  const calls: Array<{ name: string; arguments: unknown }> = [];
  for (const message of asMessages(body)) {
    if (!message || typeof message !== 'object') continue;
    const m = message as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (m.method === 'tools/call')
      calls.push({ name: typeof m.params?.name === 'string' ? m.params.name.slice(0, 200) : '?', arguments: m.params?.arguments ?? {} });
  }
  return calls;
}
