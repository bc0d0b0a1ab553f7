import { SondeError, type ProbeContext, callApi, expectShape } from '@sonde/pack-sdk';
import { z } from 'zod';

/** CMDB classes cmdb.ci.lookup may read; each is its own Table API path. */
export const CI_CLASSES = [
  'cmdb_ci',
  'cmdb_ci_server',
  'cmdb_ci_linux_server',
  'cmdb_ci_win_server',
  'cmdb_ci_vm_instance',
  'cmdb_ci_database',
  'cmdb_ci_appl',
  'cmdb_ci_service',
  'cmdb_ci_netgear',
] as const;

export const TABLE_PATHS = ['/api/now/table/incident', '/api/now/table/change_request', ...CI_CLASSES.map((c) => `/api/now/table/${c}`)];

/**
 * OAuth bearer token when configured, else basic auth. Both come from the
 * instance's credentials, are checked for header-safe characters and are sent
 * only over https (or to loopback).
 */
export function authHeaders(ctx: ProbeContext): Record<string, string> {
  const { token, username, password } = ctx.credentials;
  if (token) {
    if (!/^[\x21-\x7e]{1,8192}$/.test(token))
      throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured token contains characters a header cannot carry');
    return { Authorization: `Bearer ${token}` };
  }
  if (username && password) {
    if (username.length > 255 || [...username].some((ch) => ch === ':' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
      throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured username may not contain ":" or control characters');
    return { Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` };
  }
  throw new SondeError('SONDE_ERR_PROBE_FAILED', 'configure ServiceNow credentials: token (OAuth bearer), or username and password');
}

export interface TableQuery {
  /** Encoded query built only from fixed text, enums and integers (or a value checked by CiName). */
  query: string;
  fields: readonly string[];
  limit: number;
}

/**
 * GET /api/now/table/{table}: display values instead of sys_ids, no reference
 * links, the total from X-Total-Count. Records are flat string maps.
 */
export async function readTable(
  ctx: ProbeContext,
  table: string,
  request: TableQuery,
): Promise<{ records: Array<Record<string, string>>; total: number }> {
  const path = `/api/now/table/${table}`;
  const response = await callApi(
    ctx,
    'ServiceNow',
    {
      path,
      query: {
        sysparm_query: request.query,
        sysparm_fields: request.fields.join(','),
        sysparm_limit: request.limit,
        sysparm_display_value: 'true',
        sysparm_exclude_reference_link: 'true',
      },
    },
    authHeaders(ctx),
  );
  const body = expectShape(z.object({ result: z.array(z.record(z.string(), z.unknown())) }), response.body, `ServiceNow ${path}`);
  const records = body.result.map((record) => {
    const flat: Record<string, string> = {};
    for (const [key, value] of Object.entries(record)) {
      // With exclude_reference_link a reference is a string; anything else is rendered as text.
      flat[key] =
        typeof value === 'string'
          ? value
          : value && typeof value === 'object' && 'display_value' in value
            ? String(value.display_value)
            : JSON.stringify(value);
    }
    return flat;
  });
  const total = Number(response.headers['x-total-count']);
  return { records, total: Number.isFinite(total) ? total : records.length };
}

/** ServiceNow renders an empty field as ""; callers want null. */
export function text(record: Record<string, string>, field: string): string | null {
  const value = record[field];
  return value === undefined || value === '' ? null : value;
}

/** "1 - Critical" → 1. */
export function level(value: string | null): number | null {
  const match = value ? /^(\d+)/.exec(value) : null;
  return match ? Number(match[1]) : null;
}
