import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AuditLog, Fleet, ProbeDispatcher } from '../services.js';
import type { HubStore } from '../store/types.js';

export interface GatewayDeps {
  store: HubStore;
  /** The hub signs every message to agents with the CA private key. */
  signingKey: KeyObject;
  audit: AuditLog;
  log: FastifyBaseLogger;
  hubVersion: string;
  heartbeatIntervalMs: number;
  /** CA certificate PEM, to check mTLS client certificates. */
  caCertPem: string;
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
  close(): Promise<void>;
}
