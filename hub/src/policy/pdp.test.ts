import { describe, expect, it } from 'vitest';
import type { KeyPolicy, Principal } from '../services.js';
import { createPolicyDecisionPoint, validateGlob } from './pdp.js';

const pdp = createPolicyDecisionPoint();
const principal = (policy: Partial<KeyPolicy>, role: Principal['role'] = 'member'): Principal => ({
  kind: 'api_key',
  id: 'k1',
  name: 'key-1',
  role,
  policy: { allowedAgents: [], allowedProbes: [], allowedClients: [], ...policy },
});

describe('policy decision point', () => {
  const probeCases: [string, Partial<KeyPolicy>, string, string, boolean][] = [
    ['no restriction', {}, 'web-1', 'system.disk.usage', true],
    ['agent glob match', { allowedAgents: ['prod-*'] }, 'prod-web-1', 'system.disk.usage', true],
    ['agent glob miss', { allowedAgents: ['prod-*'] }, 'staging-web-1', 'system.disk.usage', false],
    ['exact agent name', { allowedAgents: ['db-1'] }, 'db-1', 'postgres.connections', true],
    ['exact agent name is not a prefix', { allowedAgents: ['db-1'] }, 'db-10', 'postgres.connections', false],
    ['several agent globs', { allowedAgents: ['a-*', 'b-*'] }, 'b-2', 'x.y', true],
    ['probe glob covers nested names', { allowedProbes: ['system.*'] }, 'web-1', 'system.disk.usage', true],
    ['probe glob miss', { allowedProbes: ['system.*'] }, 'web-1', 'docker.containers.list', false],
    ['probe prefix lookalike', { allowedProbes: ['system.*'] }, 'web-1', 'systemd.units', false],
    ['exact probe', { allowedProbes: ['docker.containers.list'] }, 'web-1', 'docker.containers.list', true],
    ['agent allowed but probe denied', { allowedAgents: ['web-*'], allowedProbes: ['nginx.*'] }, 'web-1', 'system.disk.usage', false],
    ['probe allowed but agent denied', { allowedAgents: ['web-*'], allowedProbes: ['system.*'] }, 'db-1', 'system.disk.usage', false],
    ['dotted agent names', { allowedAgents: ['*.example.com'] }, 'web.example.com', 'system.disk.usage', true],
    ['regex metacharacters are literal', { allowedAgents: ['web.1'] }, 'webx1', 'system.disk.usage', false],
    ['braces are not expanded', { allowedAgents: ['{a,b}'] }, 'a', 'system.disk.usage', false],
    ['case matters', { allowedAgents: ['Web-*'] }, 'web-1', 'system.disk.usage', false],
    ['question mark is one character', { allowedAgents: ['web-?'] }, 'web-12', 'system.disk.usage', false],
  ];
  it.each(probeCases)('checkProbe: %s', (_label, policy, agent, probe, allowed) => {
    const decision = pdp.checkProbe(principal(policy), agent, probe);
    expect(decision.allowed).toBe(allowed);
    if (!decision.allowed) expect(decision.reason).toContain('key-1');
  });

  const agentCases: [Partial<KeyPolicy>, string, boolean][] = [
    [{}, 'anything', true],
    [{ allowedAgents: ['prod-*'] }, 'prod-1', true],
    [{ allowedAgents: ['prod-*'] }, 'dev-1', false],
    [{ allowedProbes: ['system.*'] }, 'dev-1', true],
  ];
  it.each(agentCases)('checkAgent %j on %s → %s', (policy, agent, allowed) => {
    expect(pdp.checkAgent(principal(policy), agent).allowed).toBe(allowed);
  });

  const clientCases: [string[], string | undefined, boolean][] = [
    [[], undefined, true],
    [[], 'cursor', true],
    [['claude-desktop', 'cursor'], 'cursor', true],
    [['claude-desktop'], 'cursor', false],
    [['claude-desktop'], undefined, false],
    [['claude-*'], 'claude-desktop', false],
  ];
  it.each(clientCases)('checkClient %j with %s → %s', (allowedClients, clientId, allowed) => {
    expect(pdp.checkClient(principal({ allowedClients }), clientId).allowed).toBe(allowed);
  });

  it('checkAdmin needs the admin role', () => {
    expect(pdp.checkAdmin(principal({}, 'admin')).allowed).toBe(true);
    expect(pdp.checkAdmin(principal({}, 'member'))).toMatchObject({ allowed: false });
  });
});

describe('policy glob validation', () => {
  it.each(['prod-*', 'system.*', 'web-?', 'db.example.com', 'agent:web-1'])('accepts %s', (pattern) => {
    expect(validateGlob(pattern)).toBeUndefined();
  });
  it.each(['(a|b)', '{a,b}', '[abc]', 'a/b', 'a b', '', '!prod-*', 'x'.repeat(201)])('refuses %j', (pattern) => {
    expect(validateGlob(pattern)).toBeTypeOf('string');
  });
});
