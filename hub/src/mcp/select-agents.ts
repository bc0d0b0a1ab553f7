import picomatch from 'picomatch';
import type { AgentView } from '../services.js';
import type { CallContext } from './context.js';
import { ToolError } from './errors.js';
import { resolveAgent } from './dispatch.js';

export interface Selection {
  agents: AgentView[];
  /** Names the caller spelled out that the policy refuses. */
  denied: string[];
  unknown: string[];
}

const GLOB_CHARS = /[*?[\]{}!]/;

/** Agents the key may use, in name order. */
export function visibleAgents(ctx: CallContext): AgentView[] {
  return ctx.services.fleet
    .list()
    .filter((agent) => ctx.services.pdp.checkAgent(ctx.principal, agent.name).allowed)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Resolves `patterns` (exact names or globs such as `web-*`) to agents. A glob
 * silently skips agents the policy hides; an exact name the policy refuses is
 * reported, so a fan-out says per agent why it did not run.
 */
export function selectAgents(ctx: CallContext, patterns: string[] | undefined): Selection {
  const visible = visibleAgents(ctx);
  if (!patterns || patterns.length === 0) return { agents: visible, denied: [], unknown: [] };
  const chosen = new Map<string, AgentView>();
  const denied: string[] = [];
  const unknown: string[] = [];
  for (const pattern of patterns) {
    if (GLOB_CHARS.test(pattern)) {
      const isMatch = picomatch(pattern, { nocase: false, dot: true });
      for (const agent of visible) if (isMatch(agent.name)) chosen.set(agent.name, agent);
      continue;
    }
    try {
      const agent = resolveAgent(ctx, pattern);
      chosen.set(agent.name, agent);
    } catch (error) {
      if (error instanceof ToolError && error.status === 'denied') denied.push(pattern);
      else unknown.push(pattern);
    }
  }
  return { agents: [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name)), denied, unknown };
}
