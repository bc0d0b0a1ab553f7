import { randomUUID } from 'node:crypto';
import type { EnrollRequest, EnrollResponse, WireAlgorithm } from '@sonde/pack-sdk/protocol';
import { grantWireKey, type HubCa, type HubWireKey } from '../ca/index.js';
import { HubError } from '../errors.js';
import type { ApiKeyService } from '../keys/index.js';
import type { AuditLog } from '../services.js';
import type { HubStore } from '../store/types.js';
import type { EnrollmentTokenService } from './tokens.js';

export interface EnrollDeps {
  store: HubStore;
  ca: HubCa;
  tokens: EnrollmentTokenService;
  apiKeys: ApiKeyService;
  audit: AuditLog;
  /** Handed to the agent so it trusts revocation lists this hub signs. */
  revocationKey?: { keyId: string; publicKey: string };
  /** SONDE_WIRE_SIGNATURE and the hub's wire key: an agent that offers an Ed25519 key gets it certified when the mode is ed25519. */
  wire: { mode: WireAlgorithm; hubKey: HubWireKey };
}

/** A name shaped like an agent id: lookups take ids first, so such a name could stand for another agent. */
const ID_SHAPED = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Why `name` may not be an agent name (before any lookup), or undefined. */
export function agentNameProblem(name: string): string | undefined {
  if (ID_SHAPED.test(name)) return `"${name}" looks like an agent id; choose a name that does not`;
  return undefined;
}

/**
 * Names compare case-insensitively for identity: `WEB-1` beside `web-1` would
 * read as the same host to a person or a model choosing where to run a probe.
 * A new name that differs from an existing one (removed agents included: their
 * history keeps the name) only in case is refused.
 */
async function refuseLookalike(name: string, tx: HubStore): Promise<void> {
  const problem = agentNameProblem(name);
  if (problem) throw new HubError('SONDE_ERR_NAME_TAKEN', problem);
  const folded = name.toLowerCase();
  for (const other of await tx.agents.list()) {
    if (other.name !== name && other.name.toLowerCase() === folded)
      throw new HubError(
        'SONDE_ERR_NAME_TAKEN',
        `"${name}" differs from the existing agent "${other.name}" only in case; choose a distinct name`,
      );
  }
}

/**
 * One enrolment, all or nothing: token consumed, agent created (or, for a
 * name the token was bound to, its credentials replaced under the same UUID
 * with the previous certificate and agent key revoked), certificate issued,
 * agent key minted. A refused enrolment leaves the token unused.
 */
export async function enroll(
  deps: EnrollDeps,
  rawToken: string,
  request: EnrollRequest,
  wsUrl: string,
  remote: string,
): Promise<EnrollResponse> {
  const { store, ca, tokens, apiKeys, audit } = deps;
  try {
    const result = await store.transaction(async (tx) => {
      const token = await tokens.consume(rawToken, request.name, tx.enrollmentTokens);
      const existing = await tx.agents.getByName(request.name);
      if (existing && token.boundName !== request.name) throw new HubError('SONDE_ERR_NAME_TAKEN');
      if (!existing) await refuseLookalike(request.name, tx);
      const wire = grantWireKey(deps.wire.mode, request.wireKey, request.csrPem, deps.wire.hubKey);
      const cert = ca.issueAgentCert(request.csrPem, request.name, wire?.agentKey);
      const now = new Date().toISOString();
      const credentials = { certPem: cert.certPem, certSerial: cert.serial, certNotAfter: cert.notAfter, publicKeyPem: cert.publicKeyPem };
      let agentId: string;
      if (existing) {
        agentId = existing.id;
        if (existing.certSerial) await tx.revokedCerts.add(existing.certSerial, agentId, now, 're-enrolled');
        await tx.apiKeys.revokeForAgent(agentId, now);
        await tx.agents.replaceCredentials(agentId, credentials);
      } else {
        agentId = randomUUID();
        await tx.agents.create({ id: agentId, name: request.name, enrolledAt: now, ...credentials });
      }
      const { rawKey } = await apiKeys.create({ name: `agent:${request.name}`, role: 'member', type: 'agent', agentId }, tx.apiKeys);
      await audit.append(
        {
          action: existing ? 'agent.reenroll' : 'agent.enroll',
          actor: { kind: 'agent', id: agentId, name: request.name },
          agents: [request.name],
          status: 'ok',
          detail: `token ${token.prefix}…, agent ${request.agentVersion}, cert ${cert.serial}, wire ${cert.wireAlgorithm}, from ${remote}`,
        },
        tx,
      );
      return {
        agentId,
        name: request.name,
        certPem: cert.certPem,
        caPem: ca.certPem,
        apiKey: rawKey,
        wsUrl,
        ...(deps.revocationKey ? { revocationKey: deps.revocationKey } : {}),
        ...(wire ? { wire: wire.grant } : {}),
      };
    });
    return result;
  } catch (error) {
    if (error instanceof HubError) {
      await audit.append({
        action: 'agent.enroll',
        actor: { kind: 'agent', id: null, name: request.name },
        agents: [request.name],
        status: 'denied',
        detail: `${error.code} from ${remote}`,
      });
    }
    throw error;
  }
}
