import { isIP } from 'node:net';
import { challengeNonceMatches, PROTOCOL_VERSION, type Register } from '@sonde/pack-sdk/protocol';
import type { RefusalLimiter } from '../auth/refusals.js';
import type { FastifyBaseLogger } from 'fastify';
import type { AuditEntryInput, AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';
import { packReportProblem } from '../fleet/report-bounds.js';
import { shareManifests } from '../store/manifests.js';
import { compareAttestation } from './attestation.js';
import { holdPacks } from './hold-packs.js';
import { gatePacks, servableOf } from './pack-gate.js';
import { CloseCodes } from './codes.js';
import type { AgentConnection } from './connection.js';
import type { LastSeenWriter } from './last-seen.js';
import type { ConnectionRegistry } from './registry.js';
import type { IdentityClaims } from './types.js';

export interface RegistrationContext {
  store: HubStore;
  audit: AuditLog;
  log: FastifyBaseLogger;
  registry: ConnectionRegistry;
  /** Last-seen times waiting to be written; registration writes its own at once. */
  lastSeen: LastSeenWriter;
  hubVersion: string;
  heartbeatMs: number;
  /** How long a holder of the identity gets to answer a ping before a newcomer may replace it. */
  duplicateProbeMs: number;
  /** Multi-hub: the same rule across hubs (hub/src/cluster/presence.ts). */
  claims?: IdentityClaims;
  /** The hub's own host names (`allowedHostnames`): the hub URL an agent signs must name one of them. */
  hubNames: ReadonlySet<string>;
  /** Without SONDE_PUBLIC_URL the hub knows no name of its own: the signed host must be the upgrade's `Host`. */
  hasPublicUrl: boolean;
  /** Refused registrations count for their source like any refused authentication (audited within its budget). */
  refusals?: RefusalLimiter;
}

export const DUPLICATE_IDENTITY_REASON = 'duplicate identity';
/** Degraded reasons are stored and shown; keep each one readable. */
const MAX_REASON_CHARS = 500;

/**
 * The rules of `agent.register`, in order: protocol version, enrolled name,
 * one live connection per identity (`claimIdentity`), attestation against the
 * baseline (`applyAttestation`), packs; then `hub.registered`.
 */
export async function registerAgent(connection: AgentConnection, payload: Register, ctx: RegistrationContext): Promise<void> {
  const audit = async (entry: Omit<AuditEntryInput, 'actor' | 'agents'>): Promise<void> => {
    await ctx.audit.append({
      actor: { kind: 'agent', id: connection.agentId, name: connection.name },
      agents: [connection.name],
      ...entry,
    });
  };
  // Before anything else: a registration not made for this connection proves nothing about who sent it.
  const unbound = bindingProblem(connection, payload, ctx);
  if (unbound) {
    const remote = connection.identity.remoteAddress ?? 'unknown address';
    ctx.log.warn({ agent: connection.name, remote, code: unbound.code }, `agent.register refused: ${unbound.message}`);
    if (ctx.refusals?.refused(remote, true) ?? true)
      await audit({ action: 'agent.register_refused', status: 'denied', detail: `${unbound.code} from ${remote}: ${unbound.message}` });
    connection.refuse(unbound.code, unbound.message, unbound.closeCode);
    return;
  }
  if (payload.protocolVersion !== PROTOCOL_VERSION) {
    connection.refuse(
      'SONDE_ERR_PROTOCOL_VERSION',
      `agent speaks protocol ${payload.protocolVersion}, hub ${ctx.hubVersion} speaks protocol ${PROTOCOL_VERSION}`,
      CloseCodes.protocolVersion,
    );
    return;
  }
  const reportProblem = packReportProblem(payload.packs);
  if (reportProblem) {
    await audit({ action: 'agent.report_refused', status: 'denied', detail: `registration refused: ${reportProblem}` });
    connection.refuse('SONDE_ERR_BAD_FRAME', `pack report refused: ${reportProblem}`, CloseCodes.policy);
    return;
  }
  // Before the first store read: this agent's parsed manifests are dropped for the shared frozen copies while young.
  shareManifests(payload.packs);
  const record = await ctx.store.agents.getById(connection.agentId);
  if (!record || record.removedAt) {
    connection.refuse('SONDE_ERR_AGENT_REMOVED', `agent ${connection.name} was removed`, CloseCodes.removed);
    return;
  }
  if (payload.name !== record.name) {
    ctx.log.warn({ agent: record.name, claimed: payload.name }, 'impersonation attempt: registration names another agent');
    await audit({
      action: 'agent.impersonation',
      status: 'denied',
      detail: `registered as ${payload.name} on a connection authenticated as ${record.name}`,
    });
    connection.refuse('SONDE_ERR_AGENT_MISMATCH', `enrolled as ${record.name}, registered as ${payload.name}`, CloseCodes.policy);
    return;
  }
  const claimed = await claimIdentity(connection, ctx);
  if (!claimed.ok) {
    const remote = connection.identity.remoteAddress ?? 'unknown address';
    const holder = claimed.holder ?? ctx.registry.holder(connection.agentId)?.identity.remoteAddress ?? 'unknown address';
    ctx.log.warn({ agent: record.name, remote, holder }, 'duplicate identity: second live connection refused, first kept');
    if (!record.degradedReasons.some((reason) => reason.startsWith(DUPLICATE_IDENTITY_REASON))) {
      await ctx.store.agents.addDegradedReason(
        record.id,
        `${DUPLICATE_IDENTITY_REASON}: a second connection from ${remote} at ${new Date().toISOString()} while ${holder} was connected`,
      );
    }
    await audit({
      action: 'agent.duplicate_identity',
      status: 'denied',
      detail: `second connection from ${remote} refused; ${holder} keeps the identity`,
    });
    connection.refuse('SONDE_ERR_DUPLICATE_IDENTITY', `agent ${record.name} is already connected from another host`, CloseCodes.duplicate);
    return;
  }
  if (!connection.isOpen) {
    ctx.registry.release(connection);
    return;
  }
  await applyAttestation(connection, payload, record.attestationBaseline, record.degradedReasons, ctx, audit);
  // What serves is what this registration attested: an active pack the agent's own attestation does not list is held.
  // A change against the baseline is compared above (degraded until accepted) but keeps serving, as any other change.
  const servable = servableOf(payload.attestation);
  const gated = gatePacks(payload.packs, servable);
  if (gated.held.length > 0) await holdPacks(connection.agentId, gated.held, record.degradedReasons, ctx, audit);
  const now = new Date();
  await ctx.store.agents.setPacks(record.id, gated.packs);
  // A time still waiting from the previous connection's close is older than this one.
  ctx.lastSeen.forget(record.id);
  await ctx.store.agents.markSeen(record.id, now.toISOString(), payload.agentVersion);
  // The baseline as stored now (a first registration has just written it).
  const baseline = (await ctx.store.agents.getById(record.id))?.attestationBaseline ?? null;
  connection.markRegistered({
    agentVersion: payload.agentVersion,
    attestation: sameAttestation(baseline, payload.attestation) ? baseline : payload.attestation,
    packs: gated.packs,
    servable,
    isolation: payload.isolation ?? null,
    maxConcurrency: payload.maxConcurrency,
    registeredAt: now.getTime(),
    running: 0,
    rssBytes: 0,
    uptimeS: 0,
  });
  connection.send('hub.registered', { agentId: record.id, heartbeatIntervalMs: ctx.heartbeatMs, hubVersion: ctx.hubVersion });
  ctx.log.info({ agent: record.name, method: connection.identity.method, remote: connection.identity.remoteAddress }, 'agent registered');
  await audit({
    action: 'agent.connect',
    status: 'ok',
    detail: `${connection.identity.method} from ${connection.identity.remoteAddress ?? 'unknown address'}, agent ${payload.agentVersion}, ${payload.packs.length} packs`,
  });
}

/**
 * Whether a registration attests exactly the stored baseline (the usual reconnection): the session then keeps the
 * record's copy instead of a second one per agent (~1 KB each, 10 MB over 10,000 agents).
 */
function sameAttestation(baseline: Register['attestation'] | null, current: Register['attestation']): baseline is Register['attestation'] {
  return baseline !== null && JSON.stringify(baseline) === JSON.stringify(current);
}

/**
 * A registration is bound to its connection: it must carry, under the agent's signature, the nonce this hub sent in
 * `hub.hello` on this socket and the URL the agent dialed, whose host must be a name of this hub. A register frame
 * captured elsewhere (another connection, even within the replay window and with the agent's key) carries another
 * nonce; one relayed from a connection to another server names that server. Agents from before the challenge send
 * none and are refused with a code that says to upgrade them: accepting them would keep the replay open for all.
 */
export function bindingProblem(
  connection: Pick<AgentConnection, 'nonce' | 'identity'>,
  payload: Register,
  ctx: Pick<RegistrationContext, 'hubNames' | 'hasPublicUrl'>,
): { code: 'SONDE_ERR_CHALLENGE_MISSING' | 'SONDE_ERR_CHALLENGE_MISMATCH'; message: string; closeCode: number } | undefined {
  const challenge = payload.challenge;
  if (!challenge)
    return {
      code: 'SONDE_ERR_CHALLENGE_MISSING',
      message: 'agent.register must carry the nonce of hub.hello and the hub URL (this agent is older than the hub: upgrade it)',
      closeCode: CloseCodes.protocolVersion,
    };
  if (!challengeNonceMatches(connection.nonce, challenge))
    return {
      code: 'SONDE_ERR_CHALLENGE_MISMATCH',
      message: 'agent.register carries a nonce this connection did not issue (a frame from another connection)',
      closeCode: CloseCodes.policy,
    };
  let host: string;
  let hostname: string;
  try {
    const url = new URL(challenge.hubUrl);
    host = url.host.toLowerCase();
    hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return { code: 'SONDE_ERR_CHALLENGE_MISMATCH', message: 'agent.register names no valid hub URL', closeCode: CloseCodes.policy };
  }
  const ownName =
    ctx.hubNames.has(hostname) || isIP(hostname) !== 0 || (!ctx.hasPublicUrl && host === (connection.identity.host ?? '').toLowerCase());
  if (!ownName)
    return {
      code: 'SONDE_ERR_CHALLENGE_MISMATCH',
      message: `agent.register was signed for ${challenge.hubUrl.slice(0, 200)}, not a name of this hub (set SONDE_PUBLIC_URL or SONDE_MCP_ALLOWED_HOSTS if it is one)`,
      closeCode: CloseCodes.policy,
    };
  return undefined;
}

/**
 * One live connection per identity. A newcomer is refused while the holder
 * answers a ping: a cloned machine never takes over. A holder that does not
 * answer is a dead socket the agent itself left behind (network blip before
 * the liveness sweep noticed), so it is terminated and the newcomer admitted.
 */
async function claimIdentity(connection: AgentConnection, ctx: RegistrationContext): Promise<{ ok: boolean; holder?: string }> {
  const holder = ctx.registry.holder(connection.agentId);
  if (holder && holder !== connection) {
    const alive = await holder.checkAlive(ctx.duplicateProbeMs);
    if (alive && holder.isOpen) return { ok: false };
    if (ctx.registry.holder(connection.agentId) === holder) {
      ctx.log.warn({ agent: connection.name }, 'previous connection did not answer a ping: replaced by the new one');
      holder.terminate('replaced by a new connection after it stopped answering');
      ctx.registry.release(holder);
    }
  }
  if (!ctx.registry.claim(connection)) return { ok: false };
  if (!ctx.claims) return { ok: true };
  // Across hubs: the holder hub pings its socket the same way; until the claim is settled this
  // connection holds the identity here, so a second local newcomer meets the local rule above.
  const across = await ctx.claims.claim(connection.agentId);
  if (across.ok) return { ok: true };
  ctx.registry.release(connection);
  return { ok: false, holder: across.holder };
}

async function applyAttestation(
  connection: AgentConnection,
  payload: Register,
  baseline: Register['attestation'] | null,
  reasons: string[],
  ctx: RegistrationContext,
  audit: (entry: Omit<AuditEntryInput, 'actor' | 'agents'>) => Promise<void>,
): Promise<Register['attestation']> {
  const verdict = compareAttestation(baseline, payload.attestation);
  switch (verdict.kind) {
    case 'unchanged':
      return payload.attestation;
    case 'first':
      await ctx.store.agents.setBaseline(connection.agentId, payload.attestation);
      await audit({
        action: 'agent.attestation.baseline',
        status: 'ok',
        detail: `first attestation of agent ${payload.attestation.agentVersion}`,
      });
      return payload.attestation;
    case 'upgraded':
      await ctx.store.agents.setBaseline(connection.agentId, payload.attestation);
      ctx.log.info({ agent: connection.name, from: verdict.from, to: verdict.to }, 'agent version changed: new attestation baseline');
      await audit({
        action: 'agent.attestation.baseline',
        status: 'ok',
        detail: `agent version ${verdict.from} → ${verdict.to}: new baseline`,
      });
      return payload.attestation;
    case 'changed': {
      let reason = `attestation changed: ${verdict.changes.join('; ')}`;
      if (reason.length > MAX_REASON_CHARS) reason = `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;
      ctx.log.warn({ agent: connection.name, changes: verdict.changes }, 'attestation changed without a version change: agent degraded');
      // The baseline stays; the new attestation waits for an admin to accept it.
      // The same change on the next connection finds the same reason already recorded.
      await ctx.store.agents.setPendingAttestation(connection.agentId, payload.attestation);
      if (!reasons.includes(reason)) {
        await ctx.store.agents.addDegradedReason(connection.agentId, reason);
        await audit({ action: 'agent.degraded', status: 'error', detail: reason });
      }
      // Until an admin accepts, what serves is what the accepted baseline covers.
      return baseline ?? payload.attestation;
    }
  }
}
