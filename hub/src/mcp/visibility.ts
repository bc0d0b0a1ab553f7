import type { Catalog, ProbeEntry } from './catalog.js';
import { META_TOOL_NAMES } from './catalog.js';
import type { CallContext } from './context.js';

const MAX_CACHED_POLICIES = 512;
const visibleCache = new WeakMap<Catalog, Map<string, ProbeEntry[]>>();

function policyKey(ctx: CallContext): string {
  const { role, policy } = ctx.principal;
  return JSON.stringify([role, policy.allowedAgents, policy.allowedProbes]);
}

/**
 * Probe tools this key may call on at least one agent. Policies are few and
 * the fleet changes rarely, so the answer is cached per policy and catalog.
 */
export function visibleProbeEntries(ctx: CallContext): ProbeEntry[] {
  let perPolicy = visibleCache.get(ctx.catalog);
  if (!perPolicy) visibleCache.set(ctx.catalog, (perPolicy = new Map<string, ProbeEntry[]>()));
  const key = policyKey(ctx);
  const cached = perPolicy.get(key);
  if (cached) return cached;
  const { pdp } = ctx.services;
  const agentAllowed = new Map<string, boolean>();
  const allowedAgent = (name: string): boolean => {
    let allowed = agentAllowed.get(name);
    if (allowed === undefined) agentAllowed.set(name, (allowed = pdp.checkAgent(ctx.principal, name).allowed));
    return allowed;
  };
  const visible = [...ctx.catalog.probes.values()].filter((entry) =>
    entry.agents.some((agent) => allowedAgent(agent) && pdp.checkProbe(ctx.principal, agent, entry.fullName).allowed),
  );
  if (perPolicy.size >= MAX_CACHED_POLICIES) perPolicy.clear();
  perPolicy.set(key, visible);
  return visible;
}

/** Per-probe tools sit on `/mcp` only while the key's whole list stays within the client cap (Cursor sends the first 40). */
export function perProbeToolsOnMain(ctx: CallContext): boolean {
  return META_TOOL_NAMES.length + visibleProbeEntries(ctx).length <= ctx.services.config.mcpMaxTools;
}
