import { SondeError, type ProbeContext, callApi, expectShape, type Query } from '@sonde/pack-sdk';
import { z } from 'zod';

/**
 * Citrix DaaS (Citrix Cloud) REST API, "CVAD REST API" at /cvad/manage on
 * api.cloud.com. The token request is the one POST: Citrix Cloud hands out
 * bearer tokens only for a POSTed client id and secret.
 */
export const TOKEN_PATH = '/cctrustoauth2/root/tokens/clients';
export const API_PATHS = ['/cvad/manage/me', '/cvad/manage/Machines', '/cvad/manage/DeliveryGroups', '/cvad/manage/Sessions'] as const;

const HEADER_SAFE = /^[\x21-\x7e]{1,8192}$/;
const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SITE_ID = /^[0-9a-fA-F-]{36}$/;

export interface Session {
  headers: Record<string, string>;
  siteId: string;
  siteName: string | null;
}

function credential(ctx: ProbeContext, name: string, pattern: RegExp, hint: string): string | undefined {
  const value = ctx.credentials[name];
  if (!value) return undefined;
  if (!pattern.test(value)) throw new SondeError('SONDE_ERR_PROBE_FAILED', `the configured ${name} is not ${hint}`);
  return value;
}

/** A bearer token: the configured one, else one issued for the configured API client. */
async function bearer(ctx: ProbeContext, customerId: string): Promise<string> {
  const configured = credential(ctx, 'bearerToken', HEADER_SAFE, 'a header-safe token');
  if (configured) return configured;
  const clientId = credential(ctx, 'clientId', HEADER_SAFE, 'a Citrix Cloud API client id');
  const clientSecret = ctx.credentials.clientSecret;
  if (!clientId || !clientSecret) {
    throw new SondeError(
      'SONDE_ERR_PROBE_FAILED',
      'configure Citrix Cloud credentials: customerId and clientId + clientSecret (or a bearerToken)',
    );
  }
  const response = await callApi(ctx, 'Citrix Cloud', {
    path: TOKEN_PATH,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Citrix-CustomerId': customerId },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
    maxBytes: 64 * 1024,
    credentialsInBody: true,
  });
  const token = expectShape(z.object({ access_token: z.string().regex(HEADER_SAFE) }), response.body, 'Citrix Cloud token');
  return token.access_token;
}

const Me = z.object({
  Customers: z
    .array(
      z.object({
        Id: z.string(),
        Name: z.string().nullish(),
        Sites: z.array(z.object({ Id: z.string(), Name: z.string().nullish() })).default([]),
      }),
    )
    .default([]),
});

export type MeAnswer = z.infer<typeof Me>;

async function getMe(ctx: ProbeContext, headers: Record<string, string>): Promise<MeAnswer> {
  const response = await callApi(ctx, 'Citrix DaaS', { path: '/cvad/manage/me' }, headers);
  return expectShape(Me, response.body, 'Citrix DaaS /me');
}

/** Authenticates and resolves the site (Citrix-InstanceId): the configured siteId, else the customer's only site. */
export async function openSession(ctx: ProbeContext): Promise<Session & { me?: MeAnswer }> {
  const customerId = credential(ctx, 'customerId', CUSTOMER_ID, 'a Citrix Cloud customer id');
  if (!customerId) throw new SondeError('SONDE_ERR_PROBE_FAILED', 'configure the Citrix Cloud customerId');
  const token = await bearer(ctx, customerId);
  const headers = { Authorization: `CwsAuth Bearer=${token}`, 'Citrix-CustomerId': customerId };
  const siteId = credential(ctx, 'siteId', SITE_ID, 'a site id (GUID)');
  if (siteId) return { headers: { ...headers, 'Citrix-InstanceId': siteId }, siteId, siteName: null };
  const me = await getMe(ctx, headers);
  const sites = me.Customers.find((c) => c.Id === customerId)?.Sites ?? me.Customers.flatMap((c) => c.Sites);
  const site = sites[0];
  if (!site) throw new SondeError('SONDE_ERR_PROBE_FAILED', `customer ${customerId} has no DaaS site visible to this API client`);
  if (!SITE_ID.test(site.Id)) throw new SondeError('SONDE_ERR_HTTP_FAILED', 'Citrix DaaS /me returned a site id that is not a GUID');
  return { headers: { ...headers, 'Citrix-InstanceId': site.Id }, siteId: site.Id, siteName: site.Name ?? null, me };
}

export async function whoAmI(ctx: ProbeContext): Promise<MeAnswer> {
  const customerId = credential(ctx, 'customerId', CUSTOMER_ID, 'a Citrix Cloud customer id');
  if (!customerId) throw new SondeError('SONDE_ERR_PROBE_FAILED', 'configure the Citrix Cloud customerId');
  const token = await bearer(ctx, customerId);
  return getMe(ctx, { Authorization: `CwsAuth Bearer=${token}`, 'Citrix-CustomerId': customerId });
}

const Page = z.object({ Items: z.array(z.unknown()), ContinuationToken: z.string().nullish() });
const MAX_PAGES = 5;

/** Reads a collection, following ContinuationToken for at most MAX_PAGES pages of `pageSize`. */
export async function readCollection(
  ctx: ProbeContext,
  session: Session,
  path: (typeof API_PATHS)[number],
  pageSize: number,
): Promise<{ items: unknown[]; complete: boolean }> {
  const items: unknown[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query: Query = { limit: pageSize, continuationToken: token };
    const response = await callApi(ctx, 'Citrix DaaS', { path, query }, session.headers);
    const body = expectShape(Page, response.body, `Citrix DaaS ${path}`);
    items.push(...body.Items);
    token = body.ContinuationToken ?? undefined;
    if (!token) return { items, complete: true };
  }
  return { items, complete: false };
}

/** A name reference such as DeliveryGroup: { Id, Name }. */
export const Ref = z.object({ Id: z.string().nullish(), Name: z.string().nullish() }).nullish();
