/**
 * What each hub variable is for, in words. Names, types, defaults and allowed values come from the hub's zod schema
 * (`EnvSchema` in hub/src/config.ts); only the explanation lives here. test/env-reference.test.ts fails when a variable
 * is added to the schema without an entry here, or an entry outlives its variable.
 */
export const ENV_DESCRIPTIONS: Record<string, string> = {
  SONDE_SECRET:
    'The master secret. Keys for encryption at rest (sealed credentials), the audit chain HMAC, the revocation signing key and the MCP ' +
    'client-token key are derived from it. Keep it: a hub started with another secret refuses the database (`sonde-hub` exits 3). ' +
    'Generate one with `openssl rand -base64 48`.',
  SONDE_DB_PATH:
    'The SQLite database file. Its folder is the hub’s data folder: the integration trust store and packs folder default to it. ' +
    '`:memory:` gives a throw-away database (tests).',
  SONDE_DATABASE_URL:
    'A PostgreSQL connection URL (`postgres://user:password@host:5432/database`, libpq parameters such as `sslmode` in the query ' +
    'string). When set, the hub keeps its state in that database instead of the SQLite file `SONDE_DB_PATH`, and several hubs ' +
    'with the same `SONDE_SECRET` can share it: migrations and the first boot (salt, CA, bootstrap admin) run once, under an ' +
    'advisory lock, whichever hub starts first; one audit chain covers every hub. `SONDE_DB_PATH` still names the data folder ' +
    '(integration trust store and packs). The database must exist; the hub creates its tables. Never logged (it may carry a password).',
  SONDE_ADMIN_USER:
    'The bootstrap admin user name. The hub creates this user with the admin role on start if it does not exist; it signs in with ' +
    '`POST /api/v1/auth/login`.',
  SONDE_ADMIN_PASSWORD:
    'The bootstrap admin’s password (at least 12 characters). Failed logins are rate-limited per user name and per address.',
  SONDE_PORT: 'TCP port for HTTP(S): REST, MCP and the agent WebSocket share it. `0` picks a free port (tests).',
  SONDE_HOST:
    'Address to listen on. The default serves only this machine; use `0.0.0.0` (or a specific address) when agents and clients connect ' +
    'from other hosts, ideally with TLS.',
  SONDE_LISTEN_BACKLOG:
    'The accept queue of the main listener (`SONDE_PORT`): connections the kernel holds for the hub before it accepts them. ' +
    'A fleet reconnecting after a restart arrives faster than any process accepts; past this queue the kernel drops the ' +
    'handshakes and clients retry after 1, 3, 7 s (a health check on the same port waits with them). Linux caps the value at ' +
    '`net.core.somaxconn` (4096 on kernels since 5.4; `sysctl net.core.somaxconn`, raise it with `sysctl -w` or the ' +
    "container's `sysctls`): the hub logs a warning when the setting is above it. The default is Node's own, 511: a longer " +
    'queue drops fewer handshakes but makes a health check on this port wait behind every queued agent, so raise it ' +
    'together with `SONDE_DIAG_ADDR`.',
  SONDE_DIAG_ADDR:
    'A second, plain-HTTP listener for monitoring only, e.g. `127.0.0.1:3001` (`[::1]:3001`; a port alone means ' +
    '127.0.0.1; `0.0.0.0:3001` every interface). It answers `GET`/`HEAD` `/api/v1/health`, `/api/v1/ready` and ' +
    '`/metrics` with the same handlers as the main port, `/metrics` with the same `SONDE_METRICS_TOKEN` rule, and 404 to ' +
    'everything else. Its socket and accept queue are its own, so a load balancer or Prometheus is never queued behind ' +
    'a reconnecting fleet. No TLS: keep it on loopback or a monitoring network. Unset: no second listener. A value that ' +
    'is not host:port, or an address the hub cannot listen on, stops the start (`SONDE_ERR_CONFIG`, exit 2).',
  SONDE_PUBLIC_URL:
    'The URL clients and agents use to reach the hub, e.g. `https://sonde.example.com` (a trailing slash is dropped). Used in the ' +
    'printed enroll command and the OpenAPI `servers` entry, and an `https` value makes session cookies `Secure`. Unset: derived from ' +
    'the listening address.',
  SONDE_TLS:
    '`auto`: the hub issues its own server certificate from its internal CA for `SONDE_TLS_HOSTNAMES` (agents pin that CA at ' +
    'enrollment). `off` or unset: plain HTTP, unless `SONDE_TLS_CERT`/`SONDE_TLS_KEY` are set. Cannot be combined with certificate files.',
  SONDE_TLS_CERT: 'PEM certificate file for HTTPS (your own certificate). Must be set together with `SONDE_TLS_KEY`.',
  SONDE_TLS_KEY: 'PEM private key file for `SONDE_TLS_CERT`. Must be set together with it.',
  SONDE_TLS_HOSTNAMES:
    'Comma-separated host names and IP addresses the `SONDE_TLS=auto` certificate is valid for. Ignored otherwise; must name at least one.',
  SONDE_WIRE_SIGNATURE:
    'How agent↔hub messages are signed for agents that enroll or renew from now on: `ed25519` (default) or `rsa-sha256` ' +
    '(RSA-2048 PKCS#1 v1.5 over SHA-256) where a policy names it. Each agent keeps the algorithm it enrolled with until it ' +
    'renews (`sonde renew`, allowed at any time to move to this setting). See the security model, signed messages.',
  SONDE_HEARTBEAT_MS:
    'Agent liveness interval in milliseconds (minimum 100). An agent that sends nothing (no frame, no pong) for two intervals is ' +
    'disconnected and shown offline.',
  SONDE_MCP_MAX_TOOLS:
    'The most tools one MCP endpoint lists (1–128). When the full tool list is longer, `/mcp` serves the meta tools and each pack keeps ' +
    'its own endpoint `/mcp/packs/<pack>`. 40 keeps within the limits of the strictest clients.',
  SONDE_MCP_ALLOWED_HOSTS:
    'Host names (separated by commas or spaces) that `/mcp` answers besides the host of `SONDE_PUBLIC_URL`, e.g. a second DNS ' +
    'name or the name a reverse proxy forwards. DNS-rebinding protection: a request whose `Host` is not one of these, the public ' +
    'host, an IP address, or (when `SONDE_HOST` is loopback) `localhost`, or whose `Origin` is a page elsewhere, is refused with 403.',
  SONDE_LOG_LEVEL: 'Log level of the hub’s JSON log (pino) on standard output.',
  SONDE_TRUST_PROXY:
    'Trust `X-Forwarded-*` headers from a reverse proxy (client address for rate limiting and logs). Only set it when a proxy you ' +
    'control is the only way in.',
  SONDE_TRUST_FILE:
    'The `@sonde/registry` trust store for integration packs (publisher keys and allow/deny rules). Default: `trust.json` in the data ' +
    'folder. Imported into the database (shared by every hub) whenever its contents change, at start and at ' +
    '`POST /api/v1/integrations/reload`. No file and nothing imported yet: nothing is trusted and every integration pack is refused.',
  SONDE_EMBED_ORIGINS:
    'Origins (scheme, host and port, separated by commas or spaces) of portal pages allowed to embed Sonde widgets: they get CORS on ' +
    '`/api/v1/embed/*` and may frame `/embed/*`; embed tokens can name only these. Empty: embedding is off.',
  SONDE_USER_MAX_KEYS:
    'How many MCP API keys each signed-in user may create for themselves (`/api/v1/me/keys`, member role, stopped when the user is ' +
    'disabled or removed). `0` turns self-service keys off.',
  SONDE_PACKS_DIR:
    'Where integration packs are installed (verified copies under `store/<package>/<version>/`). Default: `packs` in the data folder.',
  // Single sign-on (hub/src/identity/config.ts, IdentityEnvSchema, part of EnvSchema); see guide/single-sign-on.
  SONDE_ENTRA_ENABLED:
    'Sign in through Microsoft Entra ID. Needs the client id, tenant id and client secret below; cannot be combined with `SONDE_OIDC_ISSUER`.',
  SONDE_ENTRA_CLIENT_ID: 'The app registration’s Application (client) ID.',
  SONDE_ENTRA_TENANT_ID:
    'The Directory (tenant) ID (a GUID) or a verified domain; `organizations` or `common` for a multi-tenant app, which then needs ' +
    '`SONDE_ENTRA_ALLOWED_TENANTS`.',
  SONDE_ENTRA_CLIENT_SECRET:
    'A client secret of the app registration (or set it through `PUT /api/v1/auth/oidc/client-secret`, sealed at rest).',
  SONDE_ENTRA_ALLOWED_TENANTS: 'Multi-tenant apps only: the directory (tenant) ids allowed to sign in, separated by commas or spaces.',
  SONDE_ENTRA_AUTHORITY: 'The Entra login host; change it only for a sovereign cloud (e.g. `https://login.microsoftonline.us`).',
  SONDE_ENTRA_GRAPH_URL:
    'Microsoft Graph, read only to resolve group overage (users in more than 200 groups); change it only for a sovereign cloud.',
  SONDE_OIDC_ISSUER:
    'The issuer URL of any other OpenID Connect provider (Okta, Keycloak, Google Workspace, Authentik); https unless on this machine.',
  SONDE_OIDC_CLIENT_ID: 'The client id registered at that provider.',
  SONDE_OIDC_CLIENT_SECRET:
    'Its client secret; leave unset for a public client (PKCE only) or to set it through `PUT /api/v1/auth/oidc/client-secret` (sealed at rest).',
  SONDE_OIDC_SCOPES: 'Scopes to request, separated by commas or spaces; must include `openid`.',
  SONDE_OIDC_DISPLAY_NAME: 'The provider name on the sign-in button (“Sign in with …”).',
  SONDE_OIDC_GROUPS_CLAIM: 'The ID token claim that holds the user’s groups.',
  SONDE_OAUTH_ENABLED:
    'The hub as the OAuth 2.1 authorization server MCP clients sign in through (Claude.ai, ChatGPT, VS Code, Cursor); API keys work either way.',
  SONDE_OAUTH_CIMD: 'Accept Client ID Metadata Documents (a client id that is an https URL the hub fetches).',
  SONDE_OAUTH_DCR: 'Accept Dynamic Client Registration (RFC 7591), which most MCP clients still use.',
  SONDE_OAUTH_STATIC_CLIENTS:
    'A JSON file with an array of pre-registered clients (`client_id`, `redirect_uris`, optional `client_secret`).',
  SONDE_OAUTH_CLIENT_DOMAINS:
    'Which clients may register: host names (`claude.ai`, `*.example.com`), `localhost` for loopback redirects, `cursor:` for a private-use scheme; empty allows all.',
  SONDE_OAUTH_ACCESS_TOKEN_TTL: 'Lifetime of an access token in seconds.',
  SONDE_OAUTH_REFRESH_TOKEN_TTL: 'Lifetime of a refresh token (and of a remembered consent) in seconds.',
  SONDE_OAUTH_FETCH_ALLOW_PRIVATE:
    'Tests and private networks only: `host:port` of client metadata documents the hub may fetch although they resolve to a private address.',
  SONDE_OAUTH_FETCH_CA_FILE: 'A PEM file of extra CA certificates for fetching client metadata documents.',
  // Several hubs as one (hub/src/cluster); see guide/multi-hub.
  SONDE_NATS_URL:
    'Join other hubs over NATS (JetStream on): `nats://host:4222`, several separated by commas. The hubs share one database and ' +
    '`SONDE_SECRET`; NATS carries hub leases, which hub holds which agent, probe requests for agents held by another hub, and fleet ' +
    'changes. Unset: a single hub, exactly as without it.',
  SONDE_NATS_USER: 'NATS user name (give each deployment a user limited to its subjects, see the multi-hub guide).',
  SONDE_NATS_PASSWORD: 'Password of `SONDE_NATS_USER`.',
  SONDE_NATS_PREFIX:
    'First part of every subject and KV bucket the hubs use (`<prefix>.v1.hub.<hubId>.rpc`, `<prefix>_hubs`, `<prefix>_presence`), ' +
    'so several deployments can share one NATS server.',
  SONDE_HUB_ID:
    'This hub’s name in the cluster (letters, digits, dash, underscore). Default: a random `hub-…` per start. Two running hubs must ' +
    'never share one.',
  SONDE_AGENT_MAX_RUNNING:
    'Per-agent admission: probes the hub runs on one agent at the same time. Callers beyond it wait in order (see ' +
    '`SONDE_AGENT_MAX_WAITING`), so one busy client cannot pile requests onto an agent, and an agent that never answers holds only its own slots.',
  SONDE_AGENT_MAX_WAITING:
    'Per-agent admission: probe requests that may wait for a running slot on one agent; one more is refused at once with ' +
    '`SONDE_ERR_AGENT_BUSY` (the caller retries shortly). `0`: no waiting, refuse when all slots run.',
  SONDE_AGENT_ADMISSION_MAX:
    'Agent connections the hub admits at once before they register (upgrading, or upgraded and waiting for ' +
    '`hub.registered`). One more upgrade is answered HTTP 503 with `Retry-After` (whole seconds to its slot in a queue ' +
    "spaced by the hub's measured registration rate, at most 60) before its credentials are looked up, so a fleet " +
    'reconnecting after a restart comes back as fast as the hub registers it; agents wait that long, plus up to a ' +
    'second of jitter, before trying again. Refusals ' +
    'are counted in `/metrics` (`sonde_agent_admission_refused_total`), not audited. One caller (a client certificate, ' +
    'else one key, else one address for a socket without a credential) holds at most 2 of these places: one more gets ' +
    'HTTP 429 `SONDE_ERR_ADMISSION_SHARE` (`sonde_agent_admission_caller_refused_total`), and an admitted socket that ' +
    'does not register within 5 s gives its place back. `0`: no limit and no share.',
  SONDE_METRICS_TOKEN:
    'When set, `GET /metrics` needs `Authorization: Bearer <this value>` (Prometheus: `authorization: { credentials: … }` or ' +
    '`bearer_token_file`); unset, it answers without authentication (aggregate values only). `/api/v1/health` and `/api/v1/ready` stay open.',
  SONDE_API_KEY:
    'For the `sonde-hub packs …` and `sonde-hub integrations …` commands only (the server ignores it): an admin API key they send to ' +
    'the running hub’s REST API, which checks, applies and audits the approval as it does for the dashboard. Exit 6: the hub did not answer; 7: it refused.',
  SONDE_AUDIT_RETENTION_DAYS:
    'Audit retention: entries older than this many days move to archive files in `SONDE_AUDIT_ARCHIVE_DIR` and leave the database ' +
    '(checked hourly). The chain still verifies: from a signed checkpoint of the last archived entry. Unset (and no `_ROWS`): keep everything.',
  SONDE_AUDIT_RETENTION_ROWS:
    'Audit retention: keep only the newest this many entries in the database; older ones are archived the same way. With both set, ' +
    'whichever lets more go applies. Entries an export sink has not acknowledged are never pruned.',
  SONDE_AUDIT_ARCHIVE_DIR:
    'Where retention writes archive files (`audit-<from>-<to>.jsonl`, 0600). Default: `audit-archive` in the data folder. Verify them ' +
    'with `sonde-hub audit verify-archive FILE…`; back them up like the database.',
  // Audit export (hub/src/audit/export); see guide/administration#audit-export.
  SONDE_AUDIT_SYSLOG_URL:
    'Send every audit entry, as it commits, to a syslog collector as RFC 5424: `udp://host:514`, `tcp://host:601` (octet-counted ' +
    'frames) or `tls://host:6514`. Each message carries the entry’s seq and chain hash; the sink resumes from its last delivered entry ' +
    'after a restart or an outage.',
  SONDE_AUDIT_SYSLOG_CA: 'For `tls://`: a PEM file of the CA that signed the collector’s certificate (default: the system’s CAs).',
  SONDE_AUDIT_SYSLOG_FACILITY: 'The syslog facility of audit messages (0-23); 13 is “log audit”.',
  SONDE_AUDIT_WEBHOOK_URL:
    'POST every audit entry, in batches as they commit, to this http(s) URL as `{"entries":[…]}`, signed with ' +
    '`SONDE_AUDIT_WEBHOOK_SECRET`; any 2xx acknowledges, anything else is retried with backoff. At least once: dedupe by `seq`.',
  SONDE_AUDIT_WEBHOOK_SECRET:
    'The key that signs each webhook delivery: `x-sonde-signature: v1=<hex HMAC-SHA256(secret, x-sonde-timestamp + "." + body)>`. ' +
    'At least 32 characters.',
  SONDE_AUDIT_OTLP_URL:
    'Send every audit entry as an OpenTelemetry log record over OTLP/HTTP with the JSON encoding to this URL (a collector’s ' +
    '`http://collector:4318/v1/logs`).',
  SONDE_AUDIT_OTLP_HEADERS:
    'Extra headers for the OTLP requests, `name=value` pairs separated by commas (values may be percent-encoded), as in ' +
    '`OTEL_EXPORTER_OTLP_HEADERS`; e.g. `authorization=Bearer%20…`.',
};
