import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AuditLog, Fleet, ProbeDispatcher } from '../services.js';
import type { AgentDirectory } from '../fleet/directory.js';
import type { HubStore } from '../store/types.js';
import type { RefusalLimiter } from '../auth/refusals.js';
import type { AdmissionStats } from './admission.js';

export interface GatewayDeps {
  store: HubStore;
  /** The agents in memory (fleet view and routing read it synchronously). */
  directory: AgentDirectory;
  /** The CA private key: signs every message to agents enrolled with RSA-SHA256 on the wire (before Ed25519, or by setting). */
  signingKey: KeyObject;
  /** The hub's Ed25519 wire key (certified by the CA): signs every message to agents enrolled with Ed25519. */
  wireKey: KeyObject;
  audit: AuditLog;
  log: FastifyBaseLogger;
  hubVersion: string;
  /**
   * How often agents send heartbeats. The wire schema (`hub.registered`) refuses
   * values under 1000 ms, so the gateway raises anything smaller to 1000.
   */
  heartbeatIntervalMs: number;
  /** CA certificate PEM, to check mTLS client certificates. */
  caCertPem: string;
  /** Time allowed between the upgrade and `agent.register` (default 10 s). */
  registerTimeoutMs?: number;
  /** The hub-signed revocation list: pushed after every registration and to every agent when it changes. */
  revocations?: { current(): Promise<unknown>; onChange(listener: (list: unknown) => void): () => void };
  /**
   * Multi-hub (hub/src/cluster): the identity claim across hubs, after this hub's own. Without it
   * the rule "one live connection per identity" is checked in this process only, as on a single hub.
   */
  claims?: IdentityClaims;
  /** Multi-hub: on shutdown, agents are closed in slices with a reconnect hint instead of all at once. */
  drain?: { slices: number; spreadMs: number };
  /**
   * The hub's names (SONDE_PUBLIC_URL, SONDE_MCP_ALLOWED_HOSTS): the host an agent signs into its registration must
   * be one of them (or an IP address or a loopback name); without a public URL, the `Host` of the upgrade request.
   */
  hostNames?: { publicUrl: string | undefined; allowedHosts: readonly string[] };
  /**
   * Agent sockets upgrading or upgraded but not yet registered, at most (SONDE_AGENT_ADMISSION_MAX); one more upgrade
   * is answered 503 + Retry-After before its credentials are looked up (admission.ts). 0 or unset: no limit.
   */
  admissionMax?: number;
  /** Per-source refusal accounting shared with the HTTP doors (hub/src/auth/refusals.ts); without it, nothing is throttled. */
  refusals?: RefusalLimiter;
}

/** One live socket per identity across hubs: claimed after the local claim, released when the socket goes. */
export interface IdentityClaims {
  /** `holder` describes who keeps the identity when it is refused (for the audit entry). */
  claim(agentId: string): Promise<{ ok: true } | { ok: false; holder: string }>;
  release(agentId: string): void;
}

/**
 * The agent-facing side of the hub: `/ws/agent` (authentication before the
 * upgrade, identity binding, liveness), the in-process dispatcher and the
 * fleet view. A multi-hub build swaps the dispatcher for one that forwards
 * to the hub holding the agent's socket.
 */
export interface AgentGateway {
  /** Adds `/ws/agent` to the server. */
  register(app: FastifyInstance): Promise<void>;
  readonly dispatcher: ProbeDispatcher;
  readonly fleet: Fleet;
  /** Closes agent sockets (on hub shutdown or agent removal). */
  disconnect(agentId: string, reason: string): void;
  /**
   * Relays an admin's approval of a pack version to the agent holding the
   * socket (a multi-hub build forwards it like a probe request).
   */
  approvePack(
    agentId: string,
    request: { pack: string; version: string; permissionsSha256: string; by: string },
  ): Promise<{ ok: boolean; error?: { code: string; message: string } }>;
  /** Relays an admin's rejection of a pending pack version, pinned like an approval (forwarded the same way). */
  rejectPack(
    agentId: string,
    request: { pack: string; version: string; permissionsSha256: string; by: string },
  ): Promise<{ ok: boolean; error?: { code: string; message: string } }>;
  /**
   * The holder side of a cross-hub duplicate check: whether this hub's socket for the agent still answers a
   * ping; one that does not is terminated and released (as `claimIdentity` does for a local newcomer).
   */
  holderAlive(agentId: string, timeoutMs: number): Promise<boolean>;
  /** This hub's agent admission (the cap, sockets waiting to register, upgrades refused 503). */
  admission(): AdmissionStats;
  /** Agents whose registered socket this hub holds. */
  heldAgents(): string[];
  close(): Promise<void>;
}

/** How an agent proved who it is before the upgrade. */
export type AuthMethod = 'mtls' | 'api_key';

export interface AuthenticatedAgent {
  agentId: string;
  name: string;
  method: AuthMethod;
  /** The API key id when `method` is `api_key` (re-checked for revocation while connected). */
  keyId: string | null;
  /** SHA-256 fingerprint of the client certificate when `method` is `mtls`. */
  certFingerprint: string | null;
  remoteAddress: string | null;
  /** The `Host` header of the upgrade request (compared with the hub URL the agent signs when the hub has no public URL). */
  host?: string | null;
  /** Optional behaviour the agent announced on the upgrade (`x-sonde-agent-features`, e.g. `drain`). */
  features?: string[];
}

/** `publicKeyPem`: the agent's stored key, as read for this decision (the connection verifies its frames with it). */
export type AuthOutcome = { ok: true; agent: AuthenticatedAgent; publicKeyPem: string } | { ok: false; reason: string };
