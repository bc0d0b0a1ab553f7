import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IntegrationErrors } from './integrations/codes.js';

/**
 * Every error the hub reports carries one stable code, a default message and an
 * HTTP status. Codes are public contract (docs/errors/hub.md lists each one and a
 * test keeps the two in sync): never rename one.
 */
export const HubErrors = {
  SONDE_ERR_VALIDATION: { status: 400, message: 'The request does not match the expected schema.' },
  SONDE_ERR_BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  SONDE_ERR_CSR_INVALID: { status: 400, message: 'The certificate signing request is invalid or its signature does not verify.' },
  SONDE_ERR_UNAUTHORIZED: { status: 401, message: 'Authentication required: send an admin API key as a Bearer token or log in.' },
  SONDE_ERR_LOGIN_FAILED: { status: 401, message: 'Wrong user name or password.' },
  SONDE_ERR_TOKEN_INVALID: { status: 401, message: 'The enrollment token is not valid.' },
  SONDE_ERR_TOKEN_EXPIRED: { status: 401, message: 'The enrollment token has expired; ask an admin for a new one.' },
  SONDE_ERR_TOKEN_USED: { status: 401, message: 'The enrollment token was already used; ask an admin for a new one.' },
  SONDE_ERR_CLIENT_CERT_REQUIRED: { status: 401, message: 'This endpoint needs the agent client certificate (mTLS).' },
  SONDE_ERR_FORBIDDEN: { status: 403, message: 'This action needs the admin role.' },
  SONDE_ERR_POLICY_DENIED: { status: 403, message: 'The key policy does not allow this.' },
  SONDE_ERR_CSRF: { status: 403, message: 'Cross-site request refused.' },
  SONDE_ERR_NOT_FOUND: { status: 404, message: 'Not found.' },
  SONDE_ERR_AGENT_NOT_FOUND: { status: 404, message: 'No such agent.' },
  SONDE_ERR_KEY_NOT_FOUND: { status: 404, message: 'No such API key.' },
  SONDE_ERR_TOKEN_NOT_FOUND: { status: 404, message: 'No such enrollment token.' },
  SONDE_ERR_USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  SONDE_ERR_NAME_TAKEN: {
    status: 409,
    message: 'An agent with this name already exists; re-enrolling it needs a token an admin bound to that name.',
  },
  SONDE_ERR_CONFLICT: { status: 409, message: 'The resource already exists or is in another state.' },
  SONDE_ERR_RENEWAL_NOT_DUE: { status: 409, message: 'The certificate is not within 30 days of expiry.' },
  SONDE_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  SONDE_ERR_RATE_LIMITED: { status: 429, message: 'Too many attempts; wait and try again.' },
  SONDE_ERR_INTERNAL: { status: 500, message: 'Internal error; see the hub log.' },
  SONDE_ERR_NOT_READY: { status: 503, message: 'This part of the hub is not available yet.' },
  SONDE_ERR_STORAGE_FULL: {
    status: 507,
    message: 'No space left for the hub database: nothing was written. Free space on its file system; writes resume by themselves.',
  },
  SONDE_ERR_STORAGE_READONLY: {
    status: 503,
    message: 'The hub database is read-only (file system or server): nothing was written. Writes resume once it is writable again.',
  },
  // Start-up and CLI errors (no HTTP request involved; status is what a wrapper would answer).
  SONDE_ERR_CONFIG: { status: 500, message: 'The hub configuration is invalid.' },
  SONDE_ERR_WRONG_SECRET: {
    status: 500,
    message: 'SONDE_SECRET does not match the secret this database was created with; start with the original SONDE_SECRET.',
  },
  SONDE_ERR_DB_TOO_NEW: { status: 500, message: 'The database was written by a newer hub; upgrade sonde-hub.' },
  SONDE_ERR_AUDIT_BROKEN: { status: 500, message: 'The audit chain does not verify.' },
  // Integration packs (hub/src/integrations/codes.ts).
  ...IntegrationErrors,
} as const satisfies Record<`SONDE_ERR_${string}`, { status: number; message: string }>;

export type HubErrorCode = keyof typeof HubErrors;

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly statusCode: number;
  constructor(code: HubErrorCode, message?: string) {
    super(message ?? HubErrors[code].message);
    this.name = 'HubError';
    this.code = code;
    this.statusCode = HubErrors[code].status;
  }
}

export function hubError(code: HubErrorCode, message?: string): HubError {
  return new HubError(code, message);
}

export const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

function describeZod(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Maps Fastify's own errors (body too large, bad JSON, …) to our codes. */
function fromFastify(error: FastifyError): { status: number; code: HubErrorCode; message: string } {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, code: 'SONDE_ERR_PAYLOAD_TOO_LARGE', message: HubErrors.SONDE_ERR_PAYLOAD_TOO_LARGE.message };
  if (status === 404) return { status, code: 'SONDE_ERR_NOT_FOUND', message: HubErrors.SONDE_ERR_NOT_FOUND.message };
  if (status === 429) return { status, code: 'SONDE_ERR_RATE_LIMITED', message: HubErrors.SONDE_ERR_RATE_LIMITED.message };
  if (status >= 400 && status < 500) return { status, code: 'SONDE_ERR_BAD_REQUEST', message: error.message };
  return { status: 500, code: 'SONDE_ERR_INTERNAL', message: HubErrors.SONDE_ERR_INTERNAL.message };
}

/**
 * A database that cannot take writes (disk full, read-only file system or server), by the driver's error code:
 * SQLite's result codes (better-sqlite3 `SqliteError.code`) and PostgreSQL's SQLSTATE, compared as strings so no
 * driver is imported here. Such a failure is the operator's to fix, not a bug: a clear code instead of 500.
 */
export function storageFault(error: unknown): 'SONDE_ERR_STORAGE_FULL' | 'SONDE_ERR_STORAGE_READONLY' | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (code === 'SQLITE_FULL' || code === '53100' || /ENOSPC|database or disk is full/i.test(text)) return 'SONDE_ERR_STORAGE_FULL';
  if ((typeof code === 'string' && code.startsWith('SQLITE_READONLY')) || code === '25006' || /EROFS|read-only file system/i.test(text))
    return 'SONDE_ERR_STORAGE_READONLY';
  return undefined;
}

/** One error shape for every route: `{ error: { code, message } }`, never a stack trace. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HubError) return reply.code(error.statusCode).send(errorBody(error.code, error.message));
    if (error instanceof z.ZodError) return reply.code(400).send(errorBody('SONDE_ERR_VALIDATION', describeZod(error)));
    const fault = storageFault(error);
    if (fault) {
      request.log.warn({ err: error }, 'the database refused a write');
      return reply.code(HubErrors[fault].status).send(errorBody(fault, HubErrors[fault].message));
    }
    const mapped = fromFastify(error as FastifyError);
    if (mapped.status >= 500) request.log.error({ err: error }, 'unhandled error');
    return reply.code(mapped.status).send(errorBody(mapped.code, mapped.message));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(errorBody('SONDE_ERR_NOT_FOUND', HubErrors.SONDE_ERR_NOT_FOUND.message)),
  );
}
