import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_FRAME_BYTES } from '@sonde/pack-sdk/protocol';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { allowedHostnames } from '../mcp/host-check.js';
import { AdmissionGate, REGISTER_FRAME_MS, type AdmissionRefusal, type AdmissionTicket } from './admission.js';
import { admissionCaller } from './admission-caller.js';
import { authenticateUpgrade } from './authenticate.js';
import { CloseCodes } from './codes.js';
import { AgentConnection, type ConnectionContext } from './connection.js';
import { LocalProbeDispatcher } from './dispatcher.js';
import { GatewayFleet } from './fleet.js';
import { LastSeenWriter } from './last-seen.js';
import { registerAgent, type RegistrationContext } from './registration.js';
import { ConnectionRegistry } from './registry.js';
import type { AgentGateway, AuthenticatedAgent, GatewayDeps } from './types.js';

export type { AgentGateway, GatewayDeps } from './types.js';
export type { AdmissionStats } from './admission.js';
export { GatewayErrorCodes, CloseCodes } from './codes.js';

export const AGENT_WS_PATH = '/ws/agent';
/** `hub.registered` refuses shorter intervals (RegisteredSchema). */
export const MIN_HEARTBEAT_MS = 1_000;
const DEFAULT_REGISTER_TIMEOUT_MS = 10_000;
/** Admission refusals are summed into one log line at most this often (a herd refuses thousands a second). */
const BUSY_LOG_EVERY_MS = 10_000;

/**
 * Builds the agent gateway. `register(app)` attaches `/ws/agent` to the
 * Fastify server's `upgrade` event: authentication (`authenticateUpgrade`)
 * runs before the WebSocket handshake is answered, so a refused peer gets a
 * plain 401 and no socket state exists for it.
 */
export function createAgentGateway(deps: GatewayDeps): AgentGateway {
  const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, Math.round(deps.heartbeatIntervalMs));
  const registerTimeoutMs = deps.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS;
  const log = deps.log.child({ component: 'agent-gateway' });
  const caCert = new X509Certificate(deps.caCertPem);
  const registry = new ConnectionRegistry();
  const dispatcher = new LocalProbeDispatcher(registry, deps.directory);
  const fleet = new GatewayFleet(registry, deps.directory);
  const lastSeen = new LastSeenWriter(deps.store, log);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  let sweepTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const admission = new AdmissionGate(deps.admissionMax ?? 0);
  /** The first frame can take no longer than the whole registration. */
  const registerFrameMs = Math.min(REGISTER_FRAME_MS, registerTimeoutMs);
  /**
   * The admission place each upgraded socket holds until its registration is done (or the socket goes), the timer
   * that closes it if its `agent.register` does not come in `registerFrameMs`, and the socket's `close` listener that
   * gives the place back. All three are dropped when the registration settles: kept for the socket's life they held
   * the timer, the listener and the upgrade's closure scope (~0.5 KB a socket).
   */
  const admitted = new WeakMap<AgentConnection, { ticket: AdmissionTicket; frameTimer: NodeJS.Timeout; detach(): void }>();
  const settle = (connection: AgentConnection, completed: boolean): void => {
    const place = admitted.get(connection);
    if (!place) return;
    admitted.delete(connection);
    clearTimeout(place.frameTimer);
    place.detach();
    place.ticket.release(completed);
  };

  const registration: RegistrationContext = {
    store: deps.store,
    audit: deps.audit,
    log,
    registry,
    lastSeen,
    hubVersion: deps.hubVersion,
    heartbeatMs,
    duplicateProbeMs: Math.min(2_000, heartbeatMs),
    hubNames: allowedHostnames({ publicUrl: deps.hostNames?.publicUrl, allowedHosts: deps.hostNames?.allowedHosts ?? [] }),
    hasPublicUrl: Boolean(deps.hostNames?.publicUrl),
    ...(deps.refusals ? { refusals: deps.refusals } : {}),
    ...(deps.claims ? { claims: deps.claims } : {}),
  };
  const connectionContext: ConnectionContext = {
    store: deps.store,
    audit: deps.audit,
    log,
    signingKey: deps.signingKey,
    wireKey: deps.wireKey,
    heartbeatMs,
    hubVersion: deps.hubVersion,
    register: async (connection, payload) => {
      try {
        await registerAgent(connection, payload, registration);
      } finally {
        // Registered or refused, the hub's work for this socket's admission is done: the next one may come in.
        settle(connection, true);
      }
      // Every (re)connecting agent gets the newest revocation list; it ignores one it already holds.
      const list = await deps.revocations?.current();
      if (list && connection.state === 'registered') pushRevocations(connection, list);
    },
    closed: (connection) => {
      settle(connection, false);
      const held = registry.holder(connection.agentId) === connection;
      registry.release(connection);
      if (held) deps.claims?.release(connection.agentId);
    },
    seen: (agentId, at) => lastSeen.mark(agentId, at),
  };
  const pushRevocations = (connection: AgentConnection, list: unknown): void => {
    try {
      connection.send('hub.revocations', { list: list as Record<string, unknown> });
    } catch (err) {
      log.warn({ err, agent: connection.name }, 'could not send the revocation list');
    }
  };
  const stopRevocationPush = deps.revocations?.onChange((list) => {
    for (const connection of registry.connections()) if (connection.state === 'registered') pushRevocations(connection, list);
  });

  /**
   * A removal committed by another process (the CLI on the same database, another hub on PostgreSQL) ends the
   * agent's session as soon as this process sees it, not at the next heartbeat: a record that arrives removed
   * drops its connections, and a `resync` (some other connection wrote, maybe a key revocation) re-checks every
   * registered connection against the store, once per burst of changes.
   */
  let recheck: Promise<void> | undefined;
  let recheckAgain = false;
  const recheckAll = (): void => {
    if (recheck) {
      recheckAgain = true;
      return;
    }
    recheck = (async () => {
      do {
        recheckAgain = false;
        for (const connection of registry.connections())
          await connection
            .recheckCredentials()
            .catch((err: unknown) => log.warn({ err, agent: connection.name }, 'credential re-check failed'));
      } while (recheckAgain && !closed);
    })().finally(() => {
      recheck = undefined;
    });
  };
  const stopWatchingAgents = deps.store.agents.watch((change) => {
    if (closed) return;
    if (change.kind === 'resync') recheckAll();
    else if (change.record.removedAt) gateway.disconnect(change.record.id, 'agent removed');
  });

  /** Liveness: ping every interval; nothing (frame or pong) for 2 intervals → terminated, offline. */
  const sweepEveryMs = Math.max(100, Math.floor(heartbeatMs / 4));
  let lastSweepAt = Date.now();
  const sweep = (): void => {
    const now = Date.now();
    const stalledMs = now - lastSweepAt - sweepEveryMs;
    lastSweepAt = now;
    if (stalledMs > heartbeatMs / 2) {
      // This process was stalled (GC, blocked event loop): frames and pongs that
      // arrived meanwhile are not read yet, so silence proves nothing. Every
      // agent gets one more interval to show life before anyone is declared dead.
      log.warn({ stalledMs }, 'hub event loop stalled: liveness deadlines extended by one interval');
      for (const connection of registry.connections()) {
        connection.lastActivity = Math.max(connection.lastActivity, now - heartbeatMs);
        connection.ping();
      }
      return;
    }
    for (const connection of registry.connections()) {
      if (connection.state !== 'registered' && now - connection.connectedAt > registerTimeoutMs + registration.duplicateProbeMs) {
        connection.refuse('SONDE_ERR_REGISTER_TIMEOUT', `no agent.register within ${registerTimeoutMs} ms`, CloseCodes.registerTimeout);
      } else if (now - connection.lastActivity > 2 * heartbeatMs) {
        log.warn({ agent: connection.name }, `no heartbeat or pong for ${now - connection.lastActivity} ms: agent offline`);
        connection.terminate(`nothing received for ${now - connection.lastActivity} ms`);
      } else if (now - connection.lastPingAt >= heartbeatMs && now - connection.lastActivity >= heartbeatMs) {
        // Only a connection silent for an interval is pinged: an agent's heartbeats already prove it alive, and
        // pinging 10,000 of them in one sweep writes to thousands of sockets in one go.
        connection.ping();
      }
    }
  };

  const refuse = (socket: Duplex, status: 401 | 404 | 429 | 503, code: string, message: string, retryAfterS?: number): void => {
    const body = JSON.stringify({ error: { code, message } });
    const reason = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status];
    const retry = retryAfterS === undefined ? '' : `Retry-After: ${retryAfterS}\r\n`;
    socket.once('finish', () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // Whatever the peer does, the socket does not outlive this.
    setTimeout(() => socket.destroy(), 1_000).unref();
  };

  /** A refused upgrade: counted for its source, audited within the source's budget (`RefusalLimiter`), else logged only. */
  const refusedUpgrade = (source: string, status: 401 | 429, reason: string, authFailure: boolean): void => {
    if (!deps.refusals?.refused(source, authFailure)) return;
    deps.audit
      .append({
        action: 'access.refused',
        actor: { kind: 'agent', id: null, name: null },
        status: 'denied',
        detail: `ws ${AGENT_WS_PATH} ${status} from ${source}: ${reason}`.slice(0, 2000),
      })
      .catch((err: unknown) => log.error({ err }, 'could not audit a refused agent upgrade'));
  };

  /**
   * Load shedding, not an access decision: the cap and the caller's share are checked before the credential lookup (a
   * refusal costs the hub almost nothing), so a refusal is neither audited (a flood of them would fill the chain) nor
   * counted against the source's refusal budget (a fleet behind one NAT address would otherwise be throttled for the
   * hub's own restart). Counted in /metrics (`sonde_agent_admission_refused_total`,
   * `sonde_agent_admission_caller_refused_total`) and summed into one warning per interval and kind.
   */
  const shedding = {
    full: {
      status: 503,
      code: 'SONDE_ERR_HUB_BUSY',
      why: 'the hub is admitting as many agents as it can register',
      log: 'agent admission full: upgrades answered 503 with Retry-After (SONDE_AGENT_ADMISSION_MAX)',
    },
    caller: {
      status: 429,
      code: 'SONDE_ERR_ADMISSION_SHARE',
      why: 'this agent already has as many connections waiting to register as the hub admits for one agent',
      log: 'agent admission: upgrades of callers already holding their share of places answered 429 with Retry-After',
    },
  } as const;
  const shedLog = { full: { at: 0, since: 0 }, caller: { at: 0, since: 0 } };
  const shed = (socket: Duplex, refusal: AdmissionRefusal): void => {
    const answer = shedding[refusal.reason];
    const logged = shedLog[refusal.reason];
    logged.since += 1;
    const now = Date.now();
    if (now - logged.at >= BUSY_LOG_EVERY_MS) {
      log.warn(
        {
          ...admission.stats(),
          refusedSinceLastLog: logged.since,
          queueS: Math.round(admission.queueS()),
          registrationsPerS: Math.round(admission.ratePerSecond()),
        },
        answer.log,
      );
      logged.at = now;
      logged.since = 0;
    }
    refuse(socket, answer.status, answer.code, `${answer.why}; retry in ${refusal.retryAfterS} s`, refusal.retryAfterS);
  };

  const onUpgrade = (app: FastifyInstance) => (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    void upgrade(app, request, socket, head).catch((err: unknown) => {
      log.error({ err }, 'agent upgrade failed');
      refuse(socket, 503, 'SONDE_ERR_INTERNAL', 'the hub could not check the credentials');
    });

  const upgrade = async (app: FastifyInstance, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== AGENT_WS_PATH) {
      // Another plugin may own this path; with no other owner, answer instead of leaving the socket hanging.
      if (app.server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'SONDE_ERR_NOT_FOUND', 'no WebSocket endpoint here');
      return;
    }
    if (closed) return refuse(socket, 503, 'SONDE_ERR_HUB_SHUTDOWN', 'the hub is shutting down');
    const source = request.socket.remoteAddress ?? 'unknown';
    const waitMs = deps.refusals?.throttledFor(source) ?? 0;
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      refusedUpgrade(source, 429, 'SONDE_ERR_RATE_LIMITED', false);
      return refuse(
        socket,
        429,
        'SONDE_ERR_RATE_LIMITED',
        `too many refused attempts from ${source}; retry in ${retryAfterS} s`,
        retryAfterS,
      );
    }
    const entry = admission.enter(admissionCaller(request));
    if (!entry.admitted) return shed(socket, entry);
    const ticket = entry.ticket;
    // Whatever ends this socket before its registration (a refusal below, the peer leaving, a close) frees its place.
    const releaseOnClose = (): void => ticket.release(false);
    socket.once('close', releaseOnClose);
    if (socket.destroyed) ticket.release(false);
    let outcome;
    try {
      outcome = await authenticateUpgrade(request, deps.store, caCert);
    } catch (err) {
      log.error({ err }, 'agent authentication failed with an error');
      outcome = { ok: false as const, reason: 'authentication error' };
    }
    if (!outcome.ok) {
      log.warn({ remote: request.socket.remoteAddress, reason: outcome.reason }, 'agent connection refused before upgrade');
      refusedUpgrade(source, 401, outcome.reason, true);
      return refuse(socket, 401, 'SONDE_ERR_UNAUTHORIZED', 'agent authentication required');
    }
    // One share per agent, however its sockets authenticated (certificate on some, key on others).
    const overShare = ticket.identify(outcome.agent.agentId);
    if (overShare) return shed(socket, overShare);
    const identity = {
      ...outcome.agent,
      remoteAddress: request.socket.remoteAddress ?? null,
      host: request.headers.host ?? null,
      features: agentFeatures(request.headers['x-sonde-agent-features']),
    };
    // The key the frames are verified with comes from the record the authentication just read (one read, not two).
    const publicKeyPem = outcome.publicKeyPem;
    if (identity.keyId) await deps.store.apiKeys.touch(identity.keyId, new Date().toISOString());
    // The peer may have gone while the store answered.
    if (socket.destroyed) return;
    if (closed) return refuse(socket, 503, 'SONDE_ERR_HUB_SHUTDOWN', 'the hub is shutting down');
    const detach = (): void => void socket.off('close', releaseOnClose);
    wss.handleUpgrade(request, socket, head, (ws) => attach(ws, identity, publicKeyPem, ticket, detach));
  };

  /**
   * The upgraded socket's connection. A function of its own, so that what the connection keeps for its life (its
   * listeners, timers, closures) does not hold the upgrade's scope: the request, its head and the credential lookup.
   */
  const attach = (ws: WebSocket, identity: AuthenticatedAgent, publicKeyPem: string, ticket: AdmissionTicket, detach: () => void): void => {
    const connection = new AgentConnection(ws, identity, publicKeyPem, connectionContext);
    // An agent answers hub.hello at once; a socket that stays silent gives its admission place back after
    // `registerFrameMs` (REGISTER_FRAME_MS). The check runs on the next turn after the timer (setImmediate, after the
    // poll phase), so a frame that arrived while this process was stalled is read before it is judged missing.
    const frameTimer = setTimeout(
      () =>
        setImmediate(() => {
          if (connection.state === 'awaiting-register')
            connection.refuse(
              'SONDE_ERR_REGISTER_TIMEOUT',
              `no agent.register within ${registerFrameMs} ms of hub.hello`,
              CloseCodes.registerTimeout,
            );
        }),
      registerFrameMs,
    );
    frameTimer.unref();
    admitted.set(connection, { ticket, frameTimer, detach });
    registry.track(connection);
    connection.start();
    if (closed) connection.close(CloseCodes.goingAway, 'hub shutting down');
  };

  const gateway: AgentGateway = {
    dispatcher,
    fleet,
    async register(app: FastifyInstance): Promise<void> {
      app.server.on('upgrade', onUpgrade(app));
      // Upgraded sockets are no longer HTTP requests: Fastify's close would wait on them forever.
      app.addHook('preClose', () => gateway.close());
      lastSweepAt = Date.now();
      sweepTimer = setInterval(sweep, sweepEveryMs);
      sweepTimer.unref();
      return Promise.resolve();
    },
    approvePack(agentId, request) {
      const connection = registry.forAgent(agentId).find((candidate) => candidate.state === 'registered');
      if (!connection)
        return Promise.resolve({ ok: false, error: { code: 'SONDE_ERR_AGENT_OFFLINE', message: 'the agent is not connected' } });
      return connection.approvePack(request);
    },
    rejectPack(agentId, request) {
      const connection = registry.forAgent(agentId).find((candidate) => candidate.state === 'registered');
      if (!connection)
        return Promise.resolve({ ok: false, error: { code: 'SONDE_ERR_AGENT_OFFLINE', message: 'the agent is not connected' } });
      return connection.rejectPack(request);
    },
    disconnect(agentId: string, reason: string): void {
      for (const connection of registry.forAgent(agentId)) {
        log.info({ agent: connection.name, reason }, 'disconnecting agent');
        connection.refuse('SONDE_ERR_AGENT_REMOVED', reason, CloseCodes.removed);
      }
    },
    async holderAlive(agentId: string, timeoutMs: number): Promise<boolean> {
      const holder = registry.holder(agentId);
      if (!holder) return false;
      if ((await holder.checkAlive(timeoutMs)) && holder.isOpen) return true;
      if (registry.holder(agentId) === holder) {
        log.warn({ agent: holder.name }, 'connection did not answer a ping for a newcomer on another hub: replaced');
        holder.terminate('replaced by a new connection on another hub after it stopped answering');
      }
      return false;
    },
    admission: () => admission.stats(),
    heldAgents(): string[] {
      return registry
        .connections()
        .flatMap((connection) => (registry.holder(connection.agentId) === connection ? [connection.agentId] : []));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (sweepTimer) clearInterval(sweepTimer);
      stopRevocationPush?.();
      stopWatchingAgents();
      await recheck;
      if (deps.drain) await drainSlices(registry.connections(), deps.drain, log);
      for (const connection of registry.connections()) connection.close(CloseCodes.goingAway, 'hub shutting down');
      // Every closed connection has just recorded its last activity: write them before the store closes.
      await lastSeen.flush({ all: true });
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  return gateway;
}

/** `x-sonde-agent-features: drain, …` (sent by agents that understand `hub.drain`; old agents send nothing). */
function agentFeatures(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((feature) => feature.trim().toLowerCase())
    .filter((feature) => /^[a-z0-9-]{1,32}$/.test(feature))
    .slice(0, 16);
}

/**
 * A hub leaving a cluster closes its agents in `slices` groups spread over `spreadMs`, each agent told
 * (`hub.drain`, when it announced the feature) to reconnect after a random delay within the spread, so
 * a restart is no reconnect storm on the other hubs. Old agents just see the close and use their backoff.
 */
async function drainSlices(
  connections: AgentConnection[],
  drain: { slices: number; spreadMs: number },
  log: FastifyBaseLogger,
): Promise<void> {
  const registered = connections.filter((connection) => connection.state === 'registered');
  if (registered.length === 0) return;
  const slices = Math.max(1, Math.min(drain.slices, registered.length));
  const size = Math.ceil(registered.length / slices);
  const pause = Math.floor(drain.spreadMs / slices);
  log.info({ agents: registered.length, slices, spreadMs: drain.spreadMs }, 'draining agents before shutdown');
  for (let start = 0; start < registered.length; start += size) {
    for (const connection of registered.slice(start, start + size)) {
      if (connection.identity.features?.includes('drain')) {
        try {
          connection.send('hub.drain', {
            reconnectInMs: Math.floor(Math.random() * drain.spreadMs),
            reason: 'hub shutting down',
          });
        } catch (err) {
          log.warn({ err, agent: connection.name }, 'could not send hub.drain');
        }
      }
      connection.close(CloseCodes.serviceRestart, 'hub shutting down: reconnect elsewhere');
    }
    if (start + size < registered.length) await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
