import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AuditLog, Fleet, ProbeDispatcher } from '../services.js';
import type { AgentDirectory } from '../fleet/directory.js';
import type { HubStore } from '../store/types.js';

export interface GatewayDeps {
  store: HubStore;
  /** The agents in memory (fleet view and routing read it synchronously). */
  directory: AgentDirectory;
  /** The hub signs every message to agents with the CA private key. */
  signingKey: KeyObject;
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
}

export type AuthOutcome = { ok: true; agent: AuthenticatedAgent } | { ok: false; reason: string };
