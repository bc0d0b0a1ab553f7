import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestAudited, withRequestAudit } from '../audit/request-context.js';
import type { AuditLog } from '../services.js';
import type { RefusalLimiter } from './refusals.js';

/**
 * The doors the generic refusal accounting covers: the REST API (the event stream and embed reads included), `/mcp`
 * and the embed frames. The login form keeps its own stricter accounting (routes/auth.ts), `/api/v1/health` stays
 * open to monitors, and the dashboard's static files and the OAuth server's pages are not credential checks.
 */
const LOGIN = '/api/v1/auth/login';
const HEALTH = '/api/v1/health';

export function coveredPath(url: string): boolean {
  const path = url.split('?')[0];
  if (path === LOGIN || path === HEALTH) return false;
  return path.startsWith('/api/') || path === '/mcp' || path.startsWith('/mcp/') || path.startsWith('/embed/');
}

/**
 * A credential was presented (an Authorization header): a 401 then is a failed authentication. A session cookie that
 * expired is not counted: 256-bit session ids are not guessed, and a dashboard left open would throttle its own user.
 */
function credentialPresented(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined;
}

/** The `error.code` of a small JSON error body (REST and JSON-RPC errors both carry one), for the audit detail. */
function errorCodeOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > 8_192) return undefined;
  try {
    const body = JSON.parse(payload) as { error?: { code?: unknown; data?: { code?: unknown } } };
    const code = body.error?.data?.code ?? body.error?.code;
    return typeof code === 'string' || typeof code === 'number' ? String(code).slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refusals outside the login form, per source address (`request.ip`, which honours SONDE_TRUST_PROXY):
 * - a source throttled by `RefusalLimiter` (too many failed authentications this window) gets 429 with `Retry-After`
 *   before any credential is looked at, whatever it presents;
 * - every 401 for a presented credential, 403 and 429 is written to the audit chain as `access.refused` unless the
 *   route audited it itself (a policy denial is its own entry: audited once), within the source's budget of 20 a
 *   minute; beyond it the refusal is logged only. A 401 without an Authorization header ("authenticate first", the
 *   start of the MCP OAuth discovery, a dashboard whose session ended) is neither audited nor counted, unless the
 *   route audited it as a refused attempt (an enrollment with a bad token).
 */
export function installRefusalHooks(app: FastifyInstance, refusals: RefusalLimiter, audit: AuditLog): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (!coveredPath(request.url)) return done();
    const waitMs = refusals.throttledFor(request.ip);
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      void reply
        .code(429)
        .header('retry-after', String(retryAfterS))
        .send({
          error: {
            code: 'SONDE_ERR_RATE_LIMITED',
            message: `Too many refused attempts from this address; retry in ${retryAfterS} s.`,
          },
        });
      return;
    }
    // The rest of the request runs with a record of whether it audited itself (audit/request-context.ts).
    withRequestAudit(() => done());
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const status = reply.statusCode;
    if ((status !== 401 && status !== 403 && status !== 429) || !coveredPath(request.url)) return payload;
    const presented = credentialPresented(request);
    if (status === 401 && !presented && !requestAudited()) return payload;
    const source = request.ip;
    if (status === 401) refusals.failed(source);
    // The route wrote its own entry for this refusal: audited once, and not out of the generic budget.
    if (requestAudited()) return payload;
    const auditIt = refusals.mayAudit(source);
    const path = (request.routeOptions.url ?? request.url.split('?')[0]).slice(0, 200);
    const code = errorCodeOf(payload);
    const detail = `${request.method} ${path} ${status}${code ? ` ${code}` : ''} from ${source}${presented ? '' : ' (no credential)'}`;
    if (!auditIt) {
      request.log.warn({ remote: source, status, code }, `refused; not audited (over the per-minute budget of this source): ${detail}`);
      return payload;
    }
    try {
      await audit.append({ action: 'access.refused', actor: { kind: 'user', id: null, name: null }, status: 'denied', detail });
    } catch (err) {
      request.log.error({ err }, 'could not audit a refusal');
    }
    return payload;
  });
}
