import type { AttemptCounters } from './auth/rate-limit.js';
import type { FastifyRequest } from 'fastify';
import type { AuditExporter } from './audit/export/index.js';
import type { RetentionSchedule } from './audit/retention.js';
import type { HubCa } from './ca/index.js';
import type { Cluster } from './cluster/index.js';
import type { HubConfig } from './config.js';
import type { HubCore } from './core.js';
import type { IntegrationService } from './integrations/service.js';
import type { AgentGateway } from './gateway/types.js';
import type { ApiRegistry } from './routes/define.js';
import type { SessionService } from './auth/sessions.js';
import type { ClientSecrets } from './identity/client-secret.js';
import type { OidcLogin } from './identity/login.js';
import type { SignIn } from './identity/sign-in.js';
import type { HubServices, Principal } from './services.js';

/** What the hub's own plugins share (the MCP layer only sees HubServices). */
export interface HubContext {
  config: HubConfig;
  core: HubCore;
  ca: HubCa;
  services: HubServices;
  gateway: AgentGateway;
  /** Multi-hub over NATS (hub/src/cluster), when SONDE_NATS_URL is set. */
  cluster: Cluster | undefined;
  sessions: SessionService;
  /** Failure windows (login throttling): in memory on one hub, shared over NATS by a cluster (auth/rate-limit.ts). */
  limits: AttemptCounters;
  /** Single sign-on (hub/src/identity), when SONDE_ENTRA_* or SONDE_OIDC_* configure a provider. */
  sso: { login: OidcLogin; signIn: SignIn; clientSecrets: ClientSecrets } | undefined;
  api: ApiRegistry;
  /** Throws 401/403 unless the request carries an admin API key or an admin session. */
  requireAdmin: (request: FastifyRequest) => Promise<Principal>;
  /** Cookies get `Secure` when the hub serves TLS or its public URL is https. */
  secureCookies: boolean;
  startedAt: number;
  /** Integration packs the hub runs itself (hub/src/integrations). */
  integrations: IntegrationService;
  /** Audit export to syslog, a webhook and/or OTLP (hub/src/audit/export), when any sink is configured. */
  auditExport: AuditExporter | undefined;
  /** Audit retention (hub/src/audit/retention.ts), when SONDE_AUDIT_RETENTION_DAYS or _ROWS is set. */
  auditRetention: RetentionSchedule | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    hub: HubContext;
  }
}
