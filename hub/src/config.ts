import path from 'node:path';
import { z } from 'zod';
import { IdentityConfigError, IdentityEnvSchema, loadIdentityConfig, type OidcProviderConfig } from './identity/config.js';
import { loadOAuthConfig, OAuthEnvSchema, type OAuthConfig } from './oauth/config.js';

/**
 * Hub configuration from SONDE_* environment variables. The schema is the only
 * definition: the Dockerfile/compose test reads ENV_VARS from here.
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(0).max(65_535);
/**
 * Agent sockets admitted at once before they register (bench/README.md, "A fleet reconnecting after a hub restart"):
 * enough to keep registrations flowing at several hundred a second, few enough that the last admitted agent waits
 * seconds, not the agent's 30 s, for `hub.registered` on a loaded hub.
 */
const DEFAULT_AGENT_ADMISSION_MAX = 200;
/**
 * The main listener's accept queue (SONDE_LISTEN_BACKLOG). Node's own default, 511, kept: a fleet reconnecting after a
 * restart overflows it (bench/herd.mjs, 10,000 agents: 126k dropped SYNs), but a deeper queue is worse for a health
 * check on the same port, which then waits behind every queued agent (with 4096: the new hub answered its first check
 * 12.4 s after the kill against 3.0 s, and 8 of 12 checks timed out at 5 s against 1 of 72). With SONDE_DIAG_ADDR
 * carrying the checks, 4096 cut the drops to 13k and the upgrade timeouts from 5,641 to 3,291 (bench/README.md).
 * Linux caps it at net.core.somaxconn (4096 by default since 5.4).
 */
const DEFAULT_LISTEN_BACKLOG = 511;
/**
 * SONDE_DIAG_ADDR: `host:port`, `[ipv6]:port`, or a port alone (loopback). `:port` (Go's "every interface") is refused:
 * the host is named, so a diagnostics port is never published by accident.
 */
const diagAddr = z.string().transform((value, ctx) => {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value.trim());
  const portNumber = match ? Number(match[2]) : NaN;
  if (!match || portNumber > 65_535) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not host:port such as 127.0.0.1:3001 ([::1]:3001 for IPv6, 0.0.0.0:3001 for every interface)`,
    });
    return z.NEVER;
  }
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port: portNumber };
});
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const embedOrigins = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const origins = value.split(/[\s,]+/).filter(Boolean);
    for (const origin of origins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin)
        ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin such as https://portal.example.com (no path, no slash)` });
    }
    return origins;
  });

export const EnvSchema = z.object({
  SONDE_SECRET: z
    .string({ error: 'is required (a random string of at least 32 characters, e.g. `openssl rand -base64 48`)' })
    .min(32, 'must be at least 32 characters'),
  SONDE_DB_PATH: z.string().min(1).default('./sonde.db'),
  SONDE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a PostgreSQL URL such as postgres://sonde@db.example.com:5432/sonde')
    .optional(),
  SONDE_ADMIN_USER: z
    .string({ error: 'is required (the bootstrap admin user name)' })
    .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash, underscore or @'),
  SONDE_ADMIN_PASSWORD: z.string({ error: 'is required (at least 12 characters)' }).min(12, 'must be at least 12 characters'),
  SONDE_PORT: port.default(3000),
  SONDE_HOST: z.string().min(1).default('127.0.0.1'),
  // The main listener's accept queue; the kernel caps it at net.core.somaxconn.
  SONDE_LISTEN_BACKLOG: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_LISTEN_BACKLOG),
  // A second, plain-HTTP listener for health, readiness and metrics only (hub/src/diag.ts); unset = none.
  SONDE_DIAG_ADDR: diagAddr.optional(),
  SONDE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://sonde.example.com' }).optional(),
  SONDE_TLS: z.enum(['auto', 'off'], { error: "must be 'auto' or 'off'" }).optional(),
  SONDE_TLS_CERT: z.string().min(1).optional(),
  SONDE_TLS_KEY: z.string().min(1).optional(),
  SONDE_TLS_HOSTNAMES: z.string().default('localhost,127.0.0.1'),
  // How agent↔hub frames are signed for agents enrolled from now on (docs/security.md): Ed25519, or RSA-SHA256 where policy names it.
  SONDE_WIRE_SIGNATURE: z.enum(['ed25519', 'rsa-sha256'], { error: "must be 'ed25519' or 'rsa-sha256'" }).default('ed25519'),
  SONDE_HEARTBEAT_MS: z.coerce.number().int().min(100, 'must be at least 100').default(15_000),
  SONDE_MCP_MAX_TOOLS: z.coerce.number().int().min(1).max(128).default(40),
  // Host names /mcp answers besides SONDE_PUBLIC_URL's (DNS-rebinding protection, hub/src/mcp/host-check.ts).
  SONDE_MCP_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((value) => value.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/, 'must list host names such as mcp.example.com'))),
  SONDE_USER_MAX_KEYS: z.coerce.number().int().min(0).max(100).default(5),
  SONDE_LOG_LEVEL: logLevel.default('info'),
  SONDE_TRUST_PROXY: bool.default(false),
  // Integration packs: a @sonde/registry trust store (missing = nothing trusted) and the folder packs install into.
  SONDE_TRUST_FILE: z.string().min(1).optional(),
  SONDE_PACKS_DIR: z.string().min(1).optional(),
  // Multi-hub (hub/src/cluster): NATS with JetStream for routing and presence; unset = a single hub.
  SONDE_NATS_URL: z
    .string()
    .regex(/^nats:\/\/[^\s,]+(,nats:\/\/[^\s,]+)*$/, 'must be nats://host:port (several separated by commas)')
    .optional(),
  SONDE_NATS_USER: z.string().min(1).optional(),
  SONDE_NATS_PASSWORD: z.string().min(1).optional(),
  SONDE_NATS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, dash or underscore')
    .default('sonde'),
  SONDE_HUB_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, dash or underscore')
    .optional(),
  // Single sign-on (hub/src/identity/config.ts): Entra ID or any OpenID Connect provider.
  ...IdentityEnvSchema.shape,
  // MCP authorization: the hub as an OAuth 2.1 authorization server (hub/src/oauth/config.ts).
  ...OAuthEnvSchema.shape,
  // Pages allowed to embed dashboard widgets (hub/src/embed): CORS for /api/v1/embed/*, frame-ancestors for /embed/*.
  SONDE_EMBED_ORIGINS: embedOrigins,
  // Per-agent admission (hub/src/gateway/concurrency.ts): probes running on one agent at once, and waiting behind them.
  SONDE_AGENT_MAX_RUNNING: z.coerce.number().int().min(1).max(1_000).default(8),
  SONDE_AGENT_MAX_WAITING: z.coerce.number().int().min(0).max(10_000).default(32),
  // Agent connections admitted at once: upgrading or upgraded, not yet registered (hub/src/gateway/admission.ts); 0 = no limit.
  SONDE_AGENT_ADMISSION_MAX: z.coerce.number().int().min(0).max(100_000).default(DEFAULT_AGENT_ADMISSION_MAX),
  // When set, GET /metrics needs `Authorization: Bearer <token>` (hub/src/metrics/routes.ts).
  SONDE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Read by the `sonde-hub packs|integrations` commands only (hub/src/cli/remote.ts); the server ignores it.
  SONDE_API_KEY: z.string().min(1).optional(),
  // Audit retention (hub/src/audit/retention.ts): older entries move to archive files; unset = keep everything.
  SONDE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  SONDE_AUDIT_RETENTION_ROWS: z.coerce.number().int().min(1_000).optional(),
  SONDE_AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
  // Audit export (hub/src/audit/export): each sink optional, each resumes from its own persisted cursor.
  SONDE_AUDIT_SYSLOG_URL: z
    .string()
    .regex(
      /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
      'must be udp://, tcp:// or tls://host:port (e.g. tls://siem.example.com:6514)',
    )
    .optional(),
  SONDE_AUDIT_SYSLOG_CA: z.string().min(1).optional(),
  SONDE_AUDIT_SYSLOG_FACILITY: z.coerce.number().int().min(0).max(23).default(13),
  SONDE_AUDIT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SONDE_AUDIT_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SONDE_AUDIT_OTLP_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://collector:4318/v1/logs' }).optional(),
  SONDE_AUDIT_OTLP_HEADERS: z
    .string()
    .regex(
      /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+=[^,]*(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+=[^,]*)*\s*$/,
      'must be name=value pairs separated by commas',
    )
    .optional(),
});

/** Every variable the hub reads; documented in the Dockerfile and compose file. */
export const ENV_VARS = Object.keys(EnvSchema.shape) as (keyof typeof EnvSchema.shape)[];

export type TlsConfig = { mode: 'files'; certFile: string; keyFile: string } | { mode: 'auto'; hostnames: string[] } | { mode: 'off' };

export interface HubConfig {
  secret: string;
  dbPath: string;
  /** Where the store is: SONDE_DATABASE_URL (PostgreSQL, shared by several hubs) when set, else the SQLite file SONDE_DB_PATH. */
  database: string;
  adminUser: string;
  adminPassword: string;
  port: number;
  host: string;
  /** The main listener's accept queue (SONDE_LISTEN_BACKLOG); the kernel caps it at net.core.somaxconn. */
  listenBacklog: number;
  /** The diagnostics listener (SONDE_DIAG_ADDR): health, readiness and metrics on their own socket; undefined: none. */
  diag: { host: string; port: number } | undefined;
  publicUrl: string | undefined;
  tls: TlsConfig;
  heartbeatMs: number;
  /** The wire signature agents enrolling or renewing get; agents keep theirs until they renew. */
  wireSignature: 'ed25519' | 'rsa-sha256';
  mcpMaxTools: number;
  /** Host names `/mcp` accepts besides SONDE_PUBLIC_URL's and loopback (SONDE_MCP_ALLOWED_HOSTS). */
  mcpAllowedHosts: string[];
  /** How many API keys a signed-in user may create for themselves ("my keys"); 0 turns self-service off. */
  userMaxKeys: number;
  logLevel: z.infer<typeof logLevel>;
  trustProxy: boolean;
  /** Integration packs (hub/src/integrations): trust store file and install folder; default beside the database. */
  integrations: { trustFile: string; packsDir: string };
  /** Single sign-on provider, when configured (SONDE_ENTRA_* or SONDE_OIDC_*). */
  identity: OidcProviderConfig | undefined;
  /** The OAuth authorization server for MCP clients (hub/src/oauth). */
  oauth: OAuthConfig;
  /** Multi-hub over NATS (SONDE_NATS_URL); undefined = a single hub. */
  cluster:
    { servers: string[]; user: string | undefined; password: string | undefined; prefix: string; hubId: string | undefined } | undefined;
  /** Origins whose pages may embed widgets (SONDE_EMBED_ORIGINS); empty: embedding off. */
  embedOrigins: string[];
  /** Per-agent admission: probes running at once on one agent, and waiting (SONDE_AGENT_MAX_RUNNING, SONDE_AGENT_MAX_WAITING). */
  agentLimits: { maxInFlight: number; maxQueued: number };
  /** Agent sockets upgrading or upgraded but not yet registered, at most (SONDE_AGENT_ADMISSION_MAX); beyond it 503 + Retry-After. 0: no limit. */
  agentAdmissionMax: number;
  /** Bearer token `/metrics` requires (SONDE_METRICS_TOKEN); undefined: no authentication. */
  metricsToken: string | undefined;
  /** Audit retention (SONDE_AUDIT_RETENTION_DAYS / _ROWS, SONDE_AUDIT_ARCHIVE_DIR); undefined: keep every entry. */
  auditRetention: { maxAgeDays: number | undefined; maxRows: number | undefined; archiveDir: string } | undefined;
  /** Audit export sinks (SONDE_AUDIT_SYSLOG_*, SONDE_AUDIT_WEBHOOK_*, SONDE_AUDIT_OTLP_*); each undefined when not configured. */
  auditExport: AuditExportConfig;
}

export interface AuditExportConfig {
  syslog: { protocol: 'udp' | 'tcp' | 'tls'; host: string; port: number; caFile: string | undefined; facility: number } | undefined;
  webhook: { url: string; secret: string } | undefined;
  otlp: { url: string; headers: Record<string, string> } | undefined;
}

/** What the headless CLI needs: the database and the secret, nothing about serving. */
export type AdminConfig = Pick<HubConfig, 'secret' | 'dbPath' | 'database' | 'logLevel'>;

export class ConfigError extends Error {
  readonly code = 'SONDE_ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? 'environment');
    return `${variable} ${issue.message}`;
  });
}

function pickEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const value = env[name];
    // An empty variable counts as unset, the way compose files leave them.
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** Full server configuration; throws ConfigError listing every problem, one line each. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const parsed = EnvSchema.safeParse(pickEnv(env));
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  const e = parsed.data;
  const problems: string[] = [];
  let tls: TlsConfig = { mode: 'off' };
  if (e.SONDE_TLS_CERT || e.SONDE_TLS_KEY) {
    if (!e.SONDE_TLS_CERT || !e.SONDE_TLS_KEY) problems.push('SONDE_TLS_CERT and SONDE_TLS_KEY must be set together');
    else if (e.SONDE_TLS === 'auto') problems.push('SONDE_TLS=auto cannot be combined with SONDE_TLS_CERT/SONDE_TLS_KEY');
    else tls = { mode: 'files', certFile: e.SONDE_TLS_CERT, keyFile: e.SONDE_TLS_KEY };
  } else if (e.SONDE_TLS === 'auto') {
    const hostnames = e.SONDE_TLS_HOSTNAMES.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (hostnames.length === 0) problems.push('SONDE_TLS_HOSTNAMES must name at least one host name or IP address');
    tls = { mode: 'auto', hostnames };
  }
  let identity: OidcProviderConfig | undefined;
  try {
    identity = loadIdentityConfig(env);
  } catch (error) {
    if (!(error instanceof IdentityConfigError)) throw error;
    problems.push(...error.problems);
  }
  const oauth = loadOAuthConfig(e, problems);
  if (e.SONDE_DIAG_ADDR && e.SONDE_DIAG_ADDR.port !== 0 && e.SONDE_DIAG_ADDR.port === e.SONDE_PORT)
    problems.push(`SONDE_DIAG_ADDR must use another port than SONDE_PORT (${e.SONDE_PORT}): it is a listener of its own`);
  if (e.SONDE_NATS_PASSWORD && !e.SONDE_NATS_USER) problems.push('SONDE_NATS_PASSWORD needs SONDE_NATS_USER');
  const auditExport = auditExportConfig(e, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    secret: e.SONDE_SECRET,
    dbPath: e.SONDE_DB_PATH,
    database: e.SONDE_DATABASE_URL ?? e.SONDE_DB_PATH,
    adminUser: e.SONDE_ADMIN_USER,
    adminPassword: e.SONDE_ADMIN_PASSWORD,
    port: e.SONDE_PORT,
    host: e.SONDE_HOST,
    listenBacklog: e.SONDE_LISTEN_BACKLOG,
    diag: e.SONDE_DIAG_ADDR,
    publicUrl: e.SONDE_PUBLIC_URL?.replace(/\/+$/, ''),
    tls,
    heartbeatMs: e.SONDE_HEARTBEAT_MS,
    wireSignature: e.SONDE_WIRE_SIGNATURE,
    mcpMaxTools: e.SONDE_MCP_MAX_TOOLS,
    mcpAllowedHosts: e.SONDE_MCP_ALLOWED_HOSTS,
    userMaxKeys: e.SONDE_USER_MAX_KEYS,
    logLevel: e.SONDE_LOG_LEVEL,
    trustProxy: e.SONDE_TRUST_PROXY,
    integrations: {
      trustFile: path.resolve(e.SONDE_TRUST_FILE ?? path.join(dataDirOf(e.SONDE_DB_PATH), 'trust.json')),
      packsDir: path.resolve(e.SONDE_PACKS_DIR ?? path.join(dataDirOf(e.SONDE_DB_PATH), 'packs')),
    },
    identity,
    oauth,
    cluster: e.SONDE_NATS_URL
      ? {
          servers: e.SONDE_NATS_URL.split(','),
          user: e.SONDE_NATS_USER,
          password: e.SONDE_NATS_PASSWORD,
          prefix: e.SONDE_NATS_PREFIX,
          hubId: e.SONDE_HUB_ID,
        }
      : undefined,
    embedOrigins: e.SONDE_EMBED_ORIGINS,
    agentLimits: { maxInFlight: e.SONDE_AGENT_MAX_RUNNING, maxQueued: e.SONDE_AGENT_MAX_WAITING },
    agentAdmissionMax: e.SONDE_AGENT_ADMISSION_MAX,
    metricsToken: e.SONDE_METRICS_TOKEN,
    auditRetention:
      e.SONDE_AUDIT_RETENTION_DAYS !== undefined || e.SONDE_AUDIT_RETENTION_ROWS !== undefined
        ? {
            maxAgeDays: e.SONDE_AUDIT_RETENTION_DAYS,
            maxRows: e.SONDE_AUDIT_RETENTION_ROWS,
            archiveDir: path.resolve(e.SONDE_AUDIT_ARCHIVE_DIR ?? path.join(dataDirOf(e.SONDE_DB_PATH), 'audit-archive')),
          }
        : undefined,
    auditExport,
  };
}

function auditExportConfig(e: z.infer<typeof EnvSchema>, problems: string[]): AuditExportConfig {
  let syslog: AuditExportConfig['syslog'];
  if (e.SONDE_AUDIT_SYSLOG_URL) {
    const [, protocol, host, port] = /^(udp|tcp|tls):\/\/\[?(.+?)\]?:(\d+)$/.exec(e.SONDE_AUDIT_SYSLOG_URL)!;
    if (Number(port) < 1 || Number(port) > 65_535) problems.push('SONDE_AUDIT_SYSLOG_URL must name a port from 1 to 65535');
    if (e.SONDE_AUDIT_SYSLOG_CA && protocol !== 'tls') problems.push('SONDE_AUDIT_SYSLOG_CA applies only to a tls:// syslog URL');
    syslog = {
      protocol: protocol as 'udp' | 'tcp' | 'tls',
      host: host,
      port: Number(port),
      caFile: e.SONDE_AUDIT_SYSLOG_CA,
      facility: e.SONDE_AUDIT_SYSLOG_FACILITY,
    };
  } else if (e.SONDE_AUDIT_SYSLOG_CA) problems.push('SONDE_AUDIT_SYSLOG_CA needs SONDE_AUDIT_SYSLOG_URL');
  let webhook: AuditExportConfig['webhook'];
  if (e.SONDE_AUDIT_WEBHOOK_URL) {
    if (!e.SONDE_AUDIT_WEBHOOK_SECRET)
      problems.push('SONDE_AUDIT_WEBHOOK_URL needs SONDE_AUDIT_WEBHOOK_SECRET (the key that signs each delivery)');
    else webhook = { url: e.SONDE_AUDIT_WEBHOOK_URL, secret: e.SONDE_AUDIT_WEBHOOK_SECRET };
  } else if (e.SONDE_AUDIT_WEBHOOK_SECRET) problems.push('SONDE_AUDIT_WEBHOOK_SECRET needs SONDE_AUDIT_WEBHOOK_URL');
  let otlp: AuditExportConfig['otlp'];
  if (e.SONDE_AUDIT_OTLP_URL) {
    const headers: Record<string, string> = {};
    for (const pair of (e.SONDE_AUDIT_OTLP_HEADERS ?? '').split(',')) {
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim().toLowerCase();
      // Percent-encoded values as OTEL_EXPORTER_OTLP_HEADERS allows; a value that is not valid encoding is taken as is.
      const raw = pair.slice(at + 1).trim();
      try {
        headers[name] = decodeURIComponent(raw);
      } catch {
        headers[name] = raw;
      }
    }
    otlp = { url: e.SONDE_AUDIT_OTLP_URL, headers };
  } else if (e.SONDE_AUDIT_OTLP_HEADERS) problems.push('SONDE_AUDIT_OTLP_HEADERS needs SONDE_AUDIT_OTLP_URL');
  return { syslog, webhook, otlp };
}

/** The folder holding the database: the hub's data folder (an in-memory database uses the working directory). */
function dataDirOf(dbPath: string): string {
  return dbPath === ':memory:' ? process.cwd() : path.dirname(path.resolve(dbPath));
}

const AdminEnvSchema = EnvSchema.pick({ SONDE_SECRET: true, SONDE_DB_PATH: true, SONDE_DATABASE_URL: true, SONDE_LOG_LEVEL: true });

/** Configuration for headless administration (`sonde-hub keys …`): only the database and the secret. */
export function loadAdminConfig(env: NodeJS.ProcessEnv = process.env): AdminConfig {
  const parsed = AdminEnvSchema.safeParse(pickEnv(env));
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  const e = parsed.data;
  return {
    secret: e.SONDE_SECRET,
    dbPath: e.SONDE_DB_PATH,
    database: e.SONDE_DATABASE_URL ?? e.SONDE_DB_PATH,
    logLevel: e.SONDE_LOG_LEVEL,
  };
}
