import { SondeError, type ProbeContext } from '@sonde/pack-sdk';

/** The optional bearer token of the instance; header-safe characters only. */
export function authHeaders(ctx: ProbeContext): Record<string, string> {
  const token = ctx.credentials.bearerToken;
  if (!token) return {};
  if (!/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new SondeError('SONDE_ERR_PROBE_FAILED', 'the configured bearerToken contains characters a header cannot carry');
  }
  return { Authorization: `Bearer ${token}` };
}
