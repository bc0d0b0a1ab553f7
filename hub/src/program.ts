/** The sonde-hub command line (loaded by cli.ts once the compile cache is on). */
import { Command } from 'commander';
import { registerBackupCommands } from './backup/commands.js';
import { registerAdminCommands } from './cli/admin.js';
import { registerFleetCommands } from './cli/fleet.js';
import { registerIdentityCommands } from './cli/identity.js';
import { registerOAuthCommands } from './cli/oauth.js';
import { registerPackCommands } from './cli/packs.js';
import { EXIT, fail } from './cli/output.js';
import { applyUsageRules } from './cli/usage.js';
import { HUB_VERSION } from './version.js';

const program = new Command();
program
  .name('sonde-hub')
  .description('Sonde hub: MCP endpoint, REST API, agent gateway and audit log. Configured by SONDE_* environment variables.')
  .version(HUB_VERSION)
  // `sonde-hub --version` only before a command: after one, `--version <v>` is that command's own option (packs approve).
  .enablePositionalOptions()
  .addHelpText(
    'after',
    `
Exit codes:
  ${EXIT.ok}  success
  ${EXIT.error}  unexpected error
  ${EXIT.usage}  bad command line or configuration (e.g. SONDE_SECRET missing or shorter than 32 characters)
  ${EXIT.wrongSecret}  SONDE_SECRET does not match the one this database was created with
  ${EXIT.notFound}  the key, token, agent, user, group or consent named does not exist
  ${EXIT.auditBroken}  audit verify found a broken chain
  ${EXIT.hubUnreachable}  packs/integrations commands: the running hub did not answer
  ${EXIT.refused}  packs/integrations commands: the running hub refused (key, role, or what was named changed)
  ${EXIT.interrupted}  audit verify: stopped by Ctrl-C (SIGINT), cleanly (nothing recorded but the cancellation)

Several hubs as one: SONDE_NATS_URL (nats://host:4222, JetStream on; unset = a single hub), SONDE_NATS_USER,
SONDE_NATS_PASSWORD, SONDE_NATS_PREFIX (default sonde), SONDE_HUB_ID (default random per start).

Per-agent admission: SONDE_AGENT_MAX_RUNNING (default 8), SONDE_AGENT_MAX_WAITING (default 32). SONDE_METRICS_TOKEN:
/metrics needs that bearer token.

Audit retention: SONDE_AUDIT_RETENTION_DAYS and/or SONDE_AUDIT_RETENTION_ROWS, SONDE_AUDIT_ARCHIVE_DIR.
Audit export (each optional): SONDE_AUDIT_SYSLOG_URL (udp|tcp|tls://host:port), SONDE_AUDIT_SYSLOG_CA,
SONDE_AUDIT_SYSLOG_FACILITY; SONDE_AUDIT_WEBHOOK_URL with SONDE_AUDIT_WEBHOOK_SECRET; SONDE_AUDIT_OTLP_URL, SONDE_AUDIT_OTLP_HEADERS.

Environment: SONDE_SECRET (required), SONDE_DB_PATH (default ./sonde.db), SONDE_DATABASE_URL
(postgres://…: PostgreSQL instead of SQLite, one database for several hubs), SONDE_ADMIN_USER and
SONDE_ADMIN_PASSWORD (required to serve), SONDE_PORT, SONDE_HOST, SONDE_LISTEN_BACKLOG, SONDE_DIAG_ADDR, SONDE_PUBLIC_URL, SONDE_TLS=auto|off,
SONDE_TLS_CERT, SONDE_TLS_KEY, SONDE_TLS_HOSTNAMES, SONDE_WIRE_SIGNATURE, SONDE_HEARTBEAT_MS, SONDE_MCP_MAX_TOOLS, SONDE_LOG_LEVEL,
SONDE_TRUST_PROXY. Single sign-on: SONDE_ENTRA_* or SONDE_OIDC_* (see docs). Admin commands (keys, tokens, agents, users, groups, oauth, audit, backup) need only SONDE_SECRET and SONDE_DB_PATH (or SONDE_DATABASE_URL) and are
safe while the hub runs; restore wants the hub stopped. The packs and integrations commands act through the running
hub's REST API: they need SONDE_API_KEY (an admin key) and find the hub by --hub-url, SONDE_PUBLIC_URL or the database.`,
  );

program
  .command('serve')
  .description('Start the hub (what `sonde-hub` alone does)')
  .action(async () => {
    try {
      // Loaded only to serve: admin commands skip Fastify and the MCP SDK and start faster.
      const { serve } = await import('./serve.js');
      await serve();
    } catch (error) {
      fail(error, false);
    }
  });

registerAdminCommands(program);
registerIdentityCommands(program);
registerFleetCommands(program);
registerPackCommands(program);
registerOAuthCommands(program);
registerBackupCommands(program);
// Last, so it reaches every command registered above: exit 2 and a "did you mean" for any bad command line.
applyUsageRules(program);

// `sonde-hub` alone serves (the container's and the unit's command). Not commander's isDefault: with a default
// command a mistyped one (`sonde-hub kyes`) would reach `serve` as an argument instead of an unknown command.
const args = process.argv.slice(2);
program.parseAsync(args.length === 0 ? ['serve'] : args, { from: 'user' }).catch((error: unknown) => fail(error, false));
