/**
 * The admin's allow-list of client domains (SONDE_OAUTH_CLIENT_DOMAINS). Each
 * entry is a host name (`claude.ai`), a wildcard (`*.example.com`, any
 * sub-domain), `localhost` (loopback redirect URIs: desktop clients, VS Code),
 * or a private-use scheme ending in a colon (`cursor:`). An empty list allows
 * every client. Applied to a Client ID Metadata Document's URL and to every
 * redirect URI a client registers (DCR or CIMD).
 */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostAllowed(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase();
  return domains.some((d) => (d.startsWith('*.') ? h.endsWith(d.slice(1)) && h.length > d.length - 1 : h === d));
}

/** Whether one redirect URI fits the allow-list. */
export function redirectUriAllowed(uri: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return true;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    if (LOOPBACK.has(url.hostname)) return domains.includes('localhost');
    return hostAllowed(url.hostname, domains);
  }
  return domains.includes(url.protocol.toLowerCase());
}

export function cimdUrlAllowed(clientId: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return true;
  try {
    return hostAllowed(new URL(clientId).hostname, domains);
  } catch {
    return false;
  }
}

export function clientAllowed(metadata: { redirect_uris?: readonly string[] }, domains: readonly string[]): boolean {
  return (metadata.redirect_uris ?? []).every((uri) => redirectUriAllowed(uri, domains));
}
