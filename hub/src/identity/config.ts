import { z } from 'zod';

/**
 * Sign-in configuration from the environment: Microsoft Entra ID (the seed's
 * SONDE_ENTRA_* variables) or any OpenID Connect provider (SONDE_OIDC_*). At
 * most one provider is active; the schema is the only definition of the
 * variables and every problem comes back as one line naming the variable.
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const httpsUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL (${what})` }).transform((u) => u.replace(/\/+$/, ''));
const list = z.string().transform((s) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean),
);
/** Entra tenant: a directory (tenant) id, a verified domain, or the multi-tenant aliases. */
const tenant = z
  .string()
  .regex(
    /^[A-Za-z0-9.-]{1,253}$/,
    'must be a directory (tenant) id such as 72f988bf-86f1-41af-91ab-2d7cd011db47, a domain, or organizations',
  );

export const IdentityEnvSchema = z.object({
  SONDE_ENTRA_ENABLED: bool.default(false),
  SONDE_ENTRA_CLIENT_ID: z.string().min(1).optional(),
  SONDE_ENTRA_TENANT_ID: tenant.optional(),
  SONDE_ENTRA_CLIENT_SECRET: z.string().min(1).optional(),
  /** Multi-tenant apps (tenant `organizations` or `common`): the directory ids allowed to sign in. */
  SONDE_ENTRA_ALLOWED_TENANTS: list.optional(),
  /** Sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn. */
  SONDE_ENTRA_AUTHORITY: httpsUrl('the Entra login host').default('https://login.microsoftonline.com'),
  /** Microsoft Graph, read only for group overage: https://graph.microsoft.us etc. */
  SONDE_ENTRA_GRAPH_URL: httpsUrl('the Microsoft Graph host').default('https://graph.microsoft.com'),
  SONDE_OIDC_ISSUER: httpsUrl('the provider issuer, e.g. https://example.okta.com').optional(),
  SONDE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  SONDE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  SONDE_OIDC_SCOPES: list.default(['openid', 'email', 'profile']),
  SONDE_OIDC_DISPLAY_NAME: z.string().trim().min(1).max(60).default('Single sign-on'),
  /** The ID token claim holding group names or ids (Keycloak, Authentik and Okta use `groups`). */
  SONDE_OIDC_GROUPS_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,100}$/)
    .default('groups'),
});

export type IdentityEnv = z.infer<typeof IdentityEnvSchema>;
export const IDENTITY_ENV_VARS = Object.keys(IdentityEnvSchema.shape) as (keyof typeof IdentityEnvSchema.shape)[];

export interface OidcProviderConfig {
  /** `entra` adds the tenant check, `tid`+`oid` subjects, app roles and group overage through Graph. */
  kind: 'entra' | 'oidc';
  /** Shown on the button: "Sign in with …". */
  displayName: string;
  /** Where discovery starts: `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent for public clients (PKCE only). */
  clientSecret: string | undefined;
  scopes: string[];
  groupsClaim: string;
  /** Entra only: the configured tenant and, for multi-tenant apps, the accepted directory ids. */
  entra?: { tenant: string; allowedTenants: string[]; graphUrl: string };
  /** Plain http issuers are accepted only on loopback (development and tests). */
  allowInsecure: boolean;
}

const MULTI_TENANT = new Set(['organizations', 'common', 'consumers']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class IdentityConfigError extends Error {
  readonly code = 'SONDE_ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'IdentityConfigError';
  }
}

function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of IDENTITY_ENV_VARS) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The configured sign-in provider, or undefined when single sign-on is off.
 * Throws IdentityConfigError listing every problem, one line each.
 */
export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env): OidcProviderConfig | undefined {
  const parsed = IdentityEnvSchema.safeParse(pick(env));
  if (!parsed.success) throw new IdentityConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? 'environment')} ${i.message}`));
  const e = parsed.data;
  const problems: string[] = [];
  const generic = e.SONDE_OIDC_ISSUER !== undefined || e.SONDE_OIDC_CLIENT_ID !== undefined;
  if (e.SONDE_ENTRA_ENABLED && generic)
    problems.push('SONDE_ENTRA_ENABLED and SONDE_OIDC_ISSUER cannot both be set: choose Entra or a generic OpenID Connect provider');

  if (e.SONDE_ENTRA_ENABLED && !generic) {
    if (!e.SONDE_ENTRA_CLIENT_ID)
      problems.push('SONDE_ENTRA_CLIENT_ID is required when SONDE_ENTRA_ENABLED=true (the app registration’s Application (client) ID)');
    if (!e.SONDE_ENTRA_TENANT_ID)
      problems.push('SONDE_ENTRA_TENANT_ID is required when SONDE_ENTRA_ENABLED=true (the Directory (tenant) ID)');
    // No SONDE_ENTRA_CLIENT_SECRET is not a start-up error: an admin may set the secret through the API (sealed at rest,
    // identity/client-secret.ts); a sign-in without either says which to set.
    const tenantId = e.SONDE_ENTRA_TENANT_ID ?? '';
    const multi = MULTI_TENANT.has(tenantId.toLowerCase());
    const allowed = e.SONDE_ENTRA_ALLOWED_TENANTS ?? [];
    if (multi && tenantId.toLowerCase() === 'consumers')
      problems.push('SONDE_ENTRA_TENANT_ID=consumers is personal Microsoft accounts only; use your directory id or organizations');
    if (multi && allowed.length === 0)
      problems.push(
        `SONDE_ENTRA_ALLOWED_TENANTS is required when SONDE_ENTRA_TENANT_ID=${tenantId}: list the directory ids allowed to sign in`,
      );
    for (const t of allowed) if (!GUID.test(t)) problems.push(`SONDE_ENTRA_ALLOWED_TENANTS: "${t}" is not a directory (tenant) id`);
    if (!multi && tenantId && !GUID.test(tenantId) && !tenantId.includes('.'))
      problems.push('SONDE_ENTRA_TENANT_ID must be the Directory (tenant) ID (a GUID), a verified domain, or organizations');
    if (problems.length > 0) throw new IdentityConfigError(problems);
    return {
      kind: 'entra',
      displayName: 'Microsoft',
      // Multi-tenant discovery uses the alias; the ID token's issuer then names the user's own tenant.
      issuer: `${e.SONDE_ENTRA_AUTHORITY}/${tenantId}/v2.0`,
      clientId: e.SONDE_ENTRA_CLIENT_ID!,
      clientSecret: e.SONDE_ENTRA_CLIENT_SECRET,
      scopes: ['openid', 'profile', 'email'],
      groupsClaim: 'groups',
      entra: { tenant: tenantId, allowedTenants: multi ? allowed.map((t) => t.toLowerCase()) : [], graphUrl: e.SONDE_ENTRA_GRAPH_URL },
      allowInsecure: isLoopback(e.SONDE_ENTRA_AUTHORITY),
    };
  }
  if (generic) {
    if (!e.SONDE_OIDC_ISSUER) problems.push('SONDE_OIDC_ISSUER is required when SONDE_OIDC_CLIENT_ID is set (the provider’s issuer URL)');
    if (!e.SONDE_OIDC_CLIENT_ID) problems.push('SONDE_OIDC_CLIENT_ID is required when SONDE_OIDC_ISSUER is set');
    if (!e.SONDE_OIDC_SCOPES.includes('openid')) problems.push('SONDE_OIDC_SCOPES must include openid');
    if (e.SONDE_OIDC_ISSUER && e.SONDE_OIDC_ISSUER.startsWith('http:') && !isLoopback(e.SONDE_OIDC_ISSUER))
      problems.push('SONDE_OIDC_ISSUER must use https (plain http is accepted only for a provider on this machine)');
    if (problems.length > 0) throw new IdentityConfigError(problems);
    return {
      kind: 'oidc',
      displayName: e.SONDE_OIDC_DISPLAY_NAME,
      issuer: e.SONDE_OIDC_ISSUER!,
      clientId: e.SONDE_OIDC_CLIENT_ID!,
      clientSecret: e.SONDE_OIDC_CLIENT_SECRET,
      scopes: e.SONDE_OIDC_SCOPES,
      groupsClaim: e.SONDE_OIDC_GROUPS_CLAIM,
      allowInsecure: isLoopback(e.SONDE_OIDC_ISSUER!),
    };
  }
  return undefined;
}
