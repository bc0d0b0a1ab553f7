import type { AuditRecord, KeyPolicy, PolicyDecisionPoint, Principal } from '../services.js';
import { anyGlobMatches, hasWildcard } from './glob.js';

/**
 * A key's scope bounds everything it can do, not only probe calls (issue 19).
 * A *scoped* key is one limited to some agents or some probes; such an admin
 * key may use only the REST routes that bound their effect to its scope
 * (`RouteSpec.scoped`), and every other admin route refuses it. `allowedClients`
 * is not a scope of data but a label the client sends (see docs/security.md):
 * it is checked on every door, and a key never mints one with more clients.
 */
export function isScoped(policy: KeyPolicy): boolean {
  return policy.allowedAgents.length > 0 || policy.allowedProbes.length > 0;
}

/** One policy list inside another: empty outer = anything; else each inner pattern is an outer one or a plain name it matches. */
function listWithin(inner: readonly string[], outer: readonly string[]): string | undefined {
  if (outer.length === 0) return undefined;
  if (inner.length === 0) return 'unrestricted';
  for (const pattern of inner) {
    if (outer.includes(pattern)) continue;
    if (!hasWildcard(pattern) && anyGlobMatches(outer, pattern)) continue;
    return pattern;
  }
  return undefined;
}

/** Why `inner` is wider than `outer` in some dimension, or undefined when it is within it. */
export function policyWider(inner: KeyPolicy, outer: KeyPolicy): string | undefined {
  const agents = listWithin(inner.allowedAgents, outer.allowedAgents);
  if (agents)
    return `allowedAgents ${agents === 'unrestricted' ? 'unrestricted' : `"${agents}"`} is wider than [${outer.allowedAgents.join(', ')}]`;
  const probes = listWithin(inner.allowedProbes, outer.allowedProbes);
  if (probes)
    return `allowedProbes ${probes === 'unrestricted' ? 'unrestricted' : `"${probes}"`} is wider than [${outer.allowedProbes.join(', ')}]`;
  if (outer.allowedClients.length > 0) {
    if (inner.allowedClients.length === 0) return `allowedClients unrestricted is wider than [${outer.allowedClients.join(', ')}]`;
    const extra = inner.allowedClients.find((client) => !outer.allowedClients.includes(client));
    if (extra) return `allowedClients "${extra}" is wider than [${outer.allowedClients.join(', ')}]`;
  }
  return undefined;
}

/**
 * Whether a scoped principal may see an audit entry: its own actions, and
 * entries about agents (and probes) all inside its scope. Hub-wide entries
 * (keys, users, settings) are not about its agents and stay hidden.
 */
export function auditEntryVisible(pdp: PolicyDecisionPoint, principal: Principal, entry: AuditRecord): boolean {
  if (!isScoped(principal.policy)) return true;
  if (entry.actor.id === principal.id) return true;
  const agents = entry.agents ?? [];
  if (agents.length === 0) return false;
  for (const agent of agents) {
    const decision = entry.probe ? pdp.checkProbe(principal, agent, entry.probe) : pdp.checkAgent(principal, agent);
    if (!decision.allowed) return false;
  }
  return true;
}
