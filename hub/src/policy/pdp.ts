import picomatch from 'picomatch';
import type { Decision, KeyPolicy, PolicyDecisionPoint, Principal } from '../services.js';

const ALLOW: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

type Matcher = (value: string) => boolean;

/**
 * Globs go through picomatch (a maintained glob library); no regular
 * expression is ever built from a policy string here. `*` matches any run of
 * characters (names have no `/`), so `system.*` covers `system.disk.usage`.
 */
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nobrace: true, noextglob: true };

/** Compiled matchers are cached per pattern list; bounded so many distinct policies cannot grow memory forever. */
function matcherCache(limit = 1000): (patterns: string[]) => Matcher {
  const cache = new Map<string, Matcher>();
  return (patterns) => {
    const key = JSON.stringify(patterns);
    let matcher = cache.get(key);
    if (!matcher) {
      const compiled = patterns.map((p) => picomatch(p, GLOB_OPTIONS));
      matcher = (value) => compiled.some((m) => m(value));
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(key, matcher);
    }
    return matcher;
  };
}

/** Checks a single glob list; empty list = unrestricted. Exported for the key-policy validator. */
export function validateGlob(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > 200) return 'a pattern is 1-200 characters';
  // Only what names contain plus `*` and `?`: no classes, groups or braces whose meaning would surprise an admin.
  if (!/^[A-Za-z0-9._@:*?-]+$/.test(pattern)) return `"${pattern}" may contain only letters, digits, . _ - @ : and the wildcards * and ?`;
  return undefined;
}

export function createPolicyDecisionPoint(): PolicyDecisionPoint {
  const matcher = matcherCache();
  const agentAllowed = (policy: KeyPolicy, agentName: string): boolean =>
    policy.allowedAgents.length === 0 || matcher(policy.allowedAgents)(agentName);

  return {
    checkClient(principal: Principal, clientId: string | undefined): Decision {
      const allowed = principal.policy.allowedClients;
      if (allowed.length === 0) return ALLOW;
      if (clientId === undefined || clientId === '')
        return deny(`key "${principal.name}" is limited to named MCP clients and this client sent no id`);
      // Client ids are exact matches by design (the security model), not globs.
      return allowed.includes(clientId) ? ALLOW : deny(`key "${principal.name}" may not be used from MCP client "${clientId}"`);
    },
    checkAgent(principal, agentName) {
      return agentAllowed(principal.policy, agentName) ? ALLOW : deny(`key "${principal.name}" may not access agent "${agentName}"`);
    },
    checkProbe(principal, agentName, probe) {
      if (!agentAllowed(principal.policy, agentName)) return deny(`key "${principal.name}" may not access agent "${agentName}"`);
      const probes = principal.policy.allowedProbes;
      if (probes.length > 0 && !matcher(probes)(probe)) return deny(`key "${principal.name}" may not run probe "${probe}"`);
      return ALLOW;
    },
    checkAdmin(principal) {
      return principal.role === 'admin' ? ALLOW : deny(`"${principal.name}" has the member role; this needs admin`);
    },
  };
}
