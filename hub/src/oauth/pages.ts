/**
 * The hub's own login and consent pages for the OAuth flow: plain HTML forms,
 * no script (the page's Content-Security-Policy forbids any), so they work in
 * every browser an MCP client opens and in a test user agent.
 */

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.3rem}label{display:block;margin:.6rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button,.button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem;display:inline-block}.muted{color:#57606a;font-size:.9rem}
.error{color:#b42318}ul{padding-left:1.2rem}code{word-break:break-all}`;

/**
 * Nothing to load but the inline style, never framed (no clickjacking of the Allow button). No `form-action`:
 * browsers apply it to the redirects after a submission, and the flow ends at the client's redirect URI.
 */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sonde: ${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export interface LoginPage {
  uid: string;
  clientName: string;
  error?: string;
  /** "Sign in with <provider>" when single sign-on is configured. */
  sso?: { displayName: string; url: string };
}

export function loginPage(p: LoginPage): string {
  const action = `/oauth/interaction/${encodeURIComponent(p.uid)}/login`;
  return page(
    'Sign in',
    `<h1>Sign in to Sonde</h1>
<p class="muted"><strong>${escapeHtml(p.clientName)}</strong> asks to use Sonde's tools on your behalf.</p>
${p.error ? `<p class="error" role="alert">${escapeHtml(p.error)}</p>` : ''}
${p.sso ? `<p><a class="button" id="sso" href="${escapeHtml(p.sso.url)}">Sign in with ${escapeHtml(p.sso.displayName)}</a></p><p class="muted">or, as the local administrator:</p>` : ''}
<form method="post" action="${escapeHtml(action)}" id="login">
<label for="user">User</label><input id="user" name="user" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface ConsentPage {
  uid: string;
  userName: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  scopes: string[];
}

const SCOPE_TEXT: Record<string, string> = {
  mcp: 'Use Sonde’s MCP tools (list agents, run read-only probes) with your role and policy',
  offline_access: 'Stay connected when you are away (refresh tokens)',
  openid: 'Know who you are (your user id)',
};

export function consentPage(p: ConsentPage): string {
  const action = `/oauth/interaction/${encodeURIComponent(p.uid)}/consent`;
  const scopes = p.scopes.map((s) => `<li><code>${escapeHtml(s)}</code>: ${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('');
  return page(
    'Allow access',
    `<h1>Allow ${escapeHtml(p.clientName)} to use Sonde?</h1>
<p>Signed in as <strong>${escapeHtml(p.userName)}</strong>.</p>
<p>Client: <code>${escapeHtml(p.clientId)}</code><br>It will receive its access at <strong>${escapeHtml(p.redirectHost)}</strong>.</p>
<p>It asks to:</p><ul>${scopes}</ul>
<p class="muted">Your answer is remembered for this client; withdraw it any time under “Connected apps” (or DELETE /api/v1/oauth/consents/&lt;id&gt;).</p>
<form method="post" action="${escapeHtml(action)}" id="consent">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
