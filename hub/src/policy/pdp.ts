import type { Decision, KeyPolicy, PolicyDecisionPoint, Principal } from '../services.js';
import { anyGlobMatches } from './glob.js';

export { validateGlob } from './glob.js';

const ALLOW: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/**
 * Policy globs are `*` and `?` only, in Sonde's one glob dialect (`glob.ts`: picomatch, each pattern compiled once,
 * with bounds on stars and name length so that no key policy can stall the hub). `*` matches any run of characters
 * (names have no `/`), so `system.*` covers `system.disk.usage`.
 */
const matcher =
  (patterns: readonly string[]): ((value: string) => boolean) =>
  (value) =>
    anyGlobMatches(patterns, value);

export function createPolicyDecisionPoint(): PolicyDecisionPoint {
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
