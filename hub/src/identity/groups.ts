import { IdentityError } from './errors.js';

/** A token's groups, or the Entra signal that they did not fit (more than 200 groups: `_claim_names` / `hasgroups`). */
export type TokenGroups = { overage: false; groups: string[] } | { overage: true; groups: string[] };

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256);
  return [];
}

/**
 * Groups from the ID token: the configured claim (`groups`), plus, for Entra,
 * app role values (`roles`), so an app role can be authorized like a group.
 */
export function groupsFromClaims(claims: Record<string, unknown>, options: { claim: string; entra: boolean }): TokenGroups {
  const groups = new Set(strings(claims[options.claim]));
  if (options.entra) for (const role of strings(claims.roles)) groups.add(role);
  const claimNames = claims._claim_names;
  const overage =
    options.entra &&
    (claims.hasgroups === true || (typeof claimNames === 'object' && claimNames !== null && Object.hasOwn(claimNames, options.claim)));
  return { overage, groups: [...groups] };
}

const MAX_PAGES = 50;

/**
 * The user's transitive group memberships from Microsoft Graph
 * (`/v1.0/users/{oid}/transitiveMemberOf/microsoft.graph.group`), following
 * `@odata.nextLink` on the same host. Needs the application permission
 * GroupMember.Read.All (admin consent) on the app registration.
 */
export async function transitiveGroupIds(options: {
  graphUrl: string;
  accessToken: string;
  userObjectId: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<string[]> {
  const doFetch = options.fetch ?? fetch;
  const origin = new URL(options.graphUrl).origin;
  let next: string | undefined =
    `${options.graphUrl}/v1.0/users/${encodeURIComponent(options.userObjectId)}/transitiveMemberOf/microsoft.graph.group?$select=id&$top=999`;
  const ids: string[] = [];
  for (let page = 0; next; page++) {
    if (page >= MAX_PAGES) throw overageError(`Microsoft Graph returned more than ${MAX_PAGES} pages of groups`);
    if (new URL(next).origin !== origin) throw overageError('Microsoft Graph sent a next page on another host');
    let response: Response;
    try {
      response = await doFetch(next, {
        headers: { authorization: `Bearer ${options.accessToken}`, accept: 'application/json' },
        signal: options.signal ?? AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw overageError(`Microsoft Graph could not be reached (${(error as Error).message})`);
    }
    const body = (await response.json().catch(() => undefined)) as
      { value?: { id?: unknown }[]; '@odata.nextLink'?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
    if (!response.ok || !body || !Array.isArray(body.value)) {
      const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP ${response.status}`;
      const hint =
        response.status === 403
          ? ': grant the app registration the Microsoft Graph application permission GroupMember.Read.All with admin consent'
          : '';
      throw overageError(`Microsoft Graph refused the group lookup (${code})${hint}`);
    }
    for (const entry of body.value) if (typeof entry.id === 'string') ids.push(entry.id);
    next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
  }
  return ids;
}

export function overageError(why: string): IdentityError {
  return new IdentityError(
    'SONDE_ERR_OIDC_GROUP_OVERAGE',
    `The account is in more groups than fit in the ID token and ${why}. Fix: assign the authorized groups to the ` +
      'enterprise application and set the groups claim to "Groups assigned to the application", or authorize app roles instead of groups.',
  );
}
