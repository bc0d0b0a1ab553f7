/**
 * Every failure the `sonde` CLI can report: a stable code, the exit code a
 * script can branch on, a message and the next step for the operator. Commands
 * throw AgentError; main.ts prints it (text or --json) and exits with its code.
 * Users never see a stack trace.
 */
export const ExitCodes = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  NOT_ENROLLED: 3,
  HUB_UNREACHABLE: 4,
  REFUSED_ROOT: 5,
  ENROLL_REFUSED: 6,
  PACK_ERROR: 7,
  AUDIT_BROKEN: 8,
  UPDATE_FAILED: 9,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

interface ErrorSpec {
  exit: ExitCode;
  message: string;
  next: string;
}

export const AgentErrors = {
  SONDE_ERR_ROOT_REFUSED: {
    exit: ExitCodes.REFUSED_ROOT,
    message: 'sonde refuses to run as root (uid 0).',
    next: 'Run it as the dedicated sonde user: sudo -u sonde sonde <command> (see agent/INSTALL.md). There is no override.',
  },
  SONDE_ERR_USAGE: { exit: ExitCodes.USAGE, message: 'Invalid command line.', next: 'Run sonde --help or sonde <command> --help.' },
  SONDE_ERR_NOT_ENROLLED: {
    exit: ExitCodes.NOT_ENROLLED,
    message: 'This agent is not enrolled with a hub.',
    next: 'Create an enrollment token in the hub dashboard, then run: sonde enroll --hub <url> --token <token>.',
  },
  SONDE_ERR_ALREADY_ENROLLED: {
    exit: ExitCodes.ERROR,
    message: 'This agent is already enrolled.',
    next: 'Pass --force to enroll again (the hub keeps the agent id when the token is bound to the same name).',
  },
  SONDE_ERR_HUB_URL: {
    exit: ExitCodes.USAGE,
    message: 'The hub URL is not valid.',
    next: 'Pass the hub base URL, for example --hub https://hub.example.com (http only for local tests).',
  },
  SONDE_ERR_HUB_UNREACHABLE: {
    exit: ExitCodes.HUB_UNREACHABLE,
    message: 'The hub could not be reached.',
    next: 'Check the URL, that the hub is running, and that this host may connect out to it (DNS, firewall, proxy).',
  },
  SONDE_ERR_HUB_NOT_SONDE: {
    exit: ExitCodes.HUB_UNREACHABLE,
    message: 'The server at that URL does not answer like a Sonde hub.',
    next: 'Check the --hub URL: it is the hub base URL, without /api/v1/enroll.',
  },
  SONDE_ERR_TOKEN_INVALID: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'The hub does not know this enrollment token.',
    next: 'Copy the token again from the hub dashboard, or create a new one.',
  },
  SONDE_ERR_TOKEN_EXPIRED: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'The enrollment token has expired.',
    next: 'Create a new enrollment token in the hub dashboard (tokens last 15 minutes).',
  },
  SONDE_ERR_TOKEN_USED: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'The enrollment token was already used.',
    next: 'Tokens are single-use: create a new one in the hub dashboard.',
  },
  SONDE_ERR_NAME_TAKEN: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'Another agent already uses this name.',
    next: 'Choose another --name, or ask an admin for a token bound to this name to re-enroll it.',
  },
  SONDE_ERR_ENROLL_REFUSED: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'The hub refused the enrollment.',
    next: 'Read the hub message above; check the agent name (letters, digits, dot, dash, underscore).',
  },
  SONDE_ERR_RENEW_REFUSED: {
    exit: ExitCodes.ENROLL_REFUSED,
    message: 'The hub refused to renew the certificate.',
    next: 'Read the hub message above: renewal is allowed in the last 30 days of the certificate or to change the wire signature; otherwise enroll again.',
  },
  SONDE_ERR_CONFIG_INVALID: {
    exit: ExitCodes.ERROR,
    message: 'The agent configuration is invalid.',
    next: 'Fix SONDE_HOME/config.json (the message names the field), or remove it to use defaults.',
  },
  SONDE_ERR_HOME_INSECURE: {
    exit: ExitCodes.ERROR,
    message: 'The agent home directory is not private to this user.',
    next: 'Run: chown -R sonde: "$SONDE_HOME" && chmod 700 "$SONDE_HOME".',
  },
  SONDE_ERR_IDENTITY_BROKEN: {
    exit: ExitCodes.ERROR,
    message: 'The stored identity (key, certificate or API key) is missing or unreadable.',
    next: 'Enroll again with a new token: sonde enroll --force --hub <url> --token <token>.',
  },
  SONDE_ERR_PACK_NOT_FOUND: {
    exit: ExitCodes.PACK_ERROR,
    message: 'No such pack is installed.',
    next: 'List installed packs with: sonde packs list.',
  },
  SONDE_ERR_PACK_INVALID: {
    exit: ExitCodes.PACK_ERROR,
    message: 'The pack is not a valid Sonde pack.',
    next: 'A pack is an npm package with a built dist/ and sonde-pack.json; run its build first.',
  },
  SONDE_ERR_PACK_INSTALL_FAILED: {
    exit: ExitCodes.PACK_ERROR,
    message: 'Installing the pack failed.',
    next: 'Check the package name and version, and the npm registry settings of this user (.npmrc, or --registry <url>).',
  },
  SONDE_ERR_PACK_REFUSED: {
    exit: ExitCodes.PACK_ERROR,
    message: 'The pack was refused: its signature, content or the trust policy does not admit it.',
    next: 'Read the reason (verifyCode names the check). Trust the publisher with: sonde trust add-key <key.pub.json>; never install a pack whose files changed.',
  },
  SONDE_ERR_PACK_DOWNGRADE: {
    exit: ExitCodes.PACK_ERROR,
    message: 'That version is older than the one installed.',
    next: 'Downgrades are refused by default; pass --allow-downgrade if you really mean to go back.',
  },
  SONDE_ERR_TRUST_INVALID: {
    exit: ExitCodes.ERROR,
    message: 'The trust store or revocation list is invalid.',
    next: 'Fix or replace SONDE_HOME/trust.json (sonde trust list shows what loads); a revocation list must be signed by a hub key in the trust store.',
  },
  SONDE_ERR_UPDATE_FETCH_FAILED: {
    exit: ExitCodes.UPDATE_FAILED,
    message: 'npm could not fetch the agent release.',
    next: 'Check the version or range, and the npm registry settings of this user (.npmrc); nothing was changed.',
  },
  SONDE_ERR_UPDATE_REFUSED: {
    exit: ExitCodes.UPDATE_FAILED,
    message: 'The agent release was refused: its signature, content or the trust policy does not admit it.',
    next: 'Read the reason (verifyCode names the check). Trust the release key with an allow rule for @sonde/agent; the running version is unchanged.',
  },
  SONDE_ERR_UPDATE_DOWNGRADE: {
    exit: ExitCodes.UPDATE_FAILED,
    message: 'That agent version is older than the one installed.',
    next: 'Downgrades are refused by default; pass --allow-downgrade if you really mean to go back.',
  },
  SONDE_ERR_UPDATE_FAILED: {
    exit: ExitCodes.UPDATE_FAILED,
    message: 'The agent update failed; the previous version stays current.',
    next: 'Read the reason; this version is recorded in SONDE_HOME/update-state.json and not retried unless you pass --retry.',
  },
  SONDE_ERR_UPDATE_BUSY: {
    exit: ExitCodes.UPDATE_FAILED,
    message: 'Another agent update is running.',
    next: 'Wait for it to finish, then run sonde update again.',
  },
  SONDE_ERR_AUDIT_BROKEN: {
    exit: ExitCodes.AUDIT_BROKEN,
    message: 'The local audit chain does not verify.',
    next: 'The audit file was modified or truncated outside the agent. Keep a copy for investigation and restart the agent.',
  },
  SONDE_ERR_AUDIT_UNAVAILABLE: {
    exit: ExitCodes.ERROR,
    message: 'No audit record is available.',
    next: 'The audit ring lives in the running agent; start it with: sonde start.',
  },
  SONDE_ERR_INTERNAL: { exit: ExitCodes.ERROR, message: 'Unexpected failure.', next: 'Re-run with --json and report the output.' },
} as const satisfies Record<string, ErrorSpec>;

export type AgentErrorCode = keyof typeof AgentErrors;

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly detail: string | undefined;
  /** Machine-readable facts for --json (for example the registry's verifyCode). */
  readonly facts: Record<string, unknown>;

  constructor(code: AgentErrorCode, detail?: string, facts: Record<string, unknown> = {}) {
    super(detail ? `${AgentErrors[code].message} ${detail}` : AgentErrors[code].message);
    this.name = 'AgentError';
    this.code = code;
    this.detail = detail;
    this.facts = facts;
  }

  get exitCode(): ExitCode {
    return AgentErrors[this.code].exit;
  }

  get next(): string {
    return AgentErrors[this.code].next;
  }

  toJSON(): { code: AgentErrorCode; message: string; next: string; exitCode: number } & Record<string, unknown> {
    return { ...this.facts, code: this.code, message: this.message, next: this.next, exitCode: this.exitCode };
  }
}

export function toAgentError(error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  return new AgentError('SONDE_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
}
