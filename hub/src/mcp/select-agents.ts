import { globMatch, hasWildcard, validateGlob } from '../policy/glob.js';
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

/** Characters of other glob languages: a pattern using them is refused, never read as something else. */
const FOREIGN_GLOB_CHARS = /[[\]{}!()+|\\/]/;
/**
 * Bounds of one call's agent filter. A pattern has at most two runs of `*` (`policy/glob.ts`), so one match
 * against an agent name (at most 64 characters) tries at most C(66, 2) placements of them, and a call at most
 * MAX_WILDCARD_PATTERNS × visible agents matches.
 */
export const MAX_FILTER_PATTERN_CHARS = 64;
export const MAX_WILDCARD_PATTERNS = 16;

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
  const wildcards = new Set(patterns.filter((pattern) => hasWildcard(pattern) || FOREIGN_GLOB_CHARS.test(pattern)));
  if (wildcards.size > MAX_WILDCARD_PATTERNS)
    throw new ToolError(
      'SONDE_ERR_INVALID_ARGUMENTS',
      `at most ${MAX_WILDCARD_PATTERNS} patterns with * or ? per call (got ${wildcards.size})`,
    );
  for (const pattern of wildcards) {
    const problem =
      pattern.length > MAX_FILTER_PATTERN_CHARS ? `a pattern is at most ${MAX_FILTER_PATTERN_CHARS} characters` : validateGlob(pattern);
    if (problem) throw new ToolError('SONDE_ERR_INVALID_ARGUMENTS', `agents: ${problem}`);
  }
  for (const pattern of patterns) {
    if (wildcards.has(pattern)) {
      for (const agent of visible) if (globMatch(pattern, agent.name)) chosen.set(agent.name, agent);
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
