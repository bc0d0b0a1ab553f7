import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigError } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import { testEnv } from '../helpers.js';
import { api, enrollAgent, RawAgent, startHubUnderAttack, type HubUnderAttack } from '../security/support.js';

/**
 * Issue 25: the per-agent admission limits and the /metrics token are operator settings. A real `sonde-hub serve`
 * with SONDE_AGENT_MAX_RUNNING=2, SONDE_AGENT_MAX_WAITING=1 and SONDE_METRICS_TOKEN, and an agent that never answers.
 */
const TOKEN = 'metrics-token-0123456789abcdef';

describe('SONDE_AGENT_MAX_RUNNING / SONDE_AGENT_MAX_WAITING and SONDE_METRICS_TOKEN on a running hub', () => {
  let hub: HubUnderAttack;
  beforeAll(async () => {
    hub = await startHubUnderAttack({ SONDE_AGENT_MAX_RUNNING: '2', SONDE_AGENT_MAX_WAITING: '1', SONDE_METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => hub?.stop());

  it('admits 2 running and 1 waiting on a silent agent; the 4th and 5th callers are refused busy at once', async () => {
    const agent = await enrollAgent(hub.url, hub.adminKey, 'silent-1');
    const raw = await RawAgent.online(agent);
    try {
      const started = performance.now();
      const calls = Array.from({ length: 5 }, () =>
        api(hub.url, hub.adminKey, 'POST', '/api/v1/probes', {
          agent: 'silent-1',
          probe: 'system.load',
          params: {},
          timeoutMs: 3_000,
        }).then((answer) => ({ ...answer, ms: performance.now() - started })),
      );
      const results = await Promise.all(calls);
      const busy = results.filter((r) => r.json.error?.code === 'SONDE_ERR_AGENT_BUSY');
      expect(busy).toHaveLength(2);
      for (const refused of busy) {
        expect(refused.json.error.message).toMatch(/2 probes running and 1 waiting \(limits 2 and 1\)/);
        expect(refused.ms).toBeLessThan(2_500);
      }
      expect(results.filter((r) => r.json.status === 'timeout')).toHaveLength(3);
      // The agent never saw more than 2 requests at once: 2, then the waiting one after the first timeout.
      const requests = raw.received.filter((m) => m.type === 'hub.probe.request');
      expect(requests).toHaveLength(3);
    } finally {
      raw.close();
    }
  });

  it('/metrics answers only the bearer token; /api/v1/health and /api/v1/ready stay open', async () => {
    const none = await fetch(`${hub.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('SONDE_ERR_UNAUTHORIZED');
    expect((await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    // An admin API key is not the metrics token.
    expect((await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.adminKey}` } })).status).toBe(401);
    const ok = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^sonde_probe_calls_total\{pack="system",status="timeout"\} 3$/m);
    expect((await fetch(`${hub.url}/api/v1/health`)).status).toBe(200);
    expect((await fetch(`${hub.url}/api/v1/ready`)).status).toBe(200);
  });
});

describe('limit and token configuration', () => {
  it('defaults to 8 and 32 and no token; refuses 0 running and a short token by name', () => {
    const config = loadConfig(testEnv('/tmp/x.db'));
    expect(config.agentLimits).toEqual({ maxInFlight: 8, maxQueued: 32 });
    expect(config.metricsToken).toBeUndefined();
    const problems = (extra: Record<string, string>): string[] => {
      try {
        loadConfig(testEnv('/tmp/x.db', extra));
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ SONDE_AGENT_MAX_RUNNING: '0' })[0]).toMatch(/^SONDE_AGENT_MAX_RUNNING /);
    expect(problems({ SONDE_AGENT_MAX_WAITING: 'lots' })[0]).toMatch(/^SONDE_AGENT_MAX_WAITING /);
    expect(problems({ SONDE_METRICS_TOKEN: 'short' })).toEqual(['SONDE_METRICS_TOKEN must be at least 16 characters']);
    expect(loadConfig(testEnv('/tmp/x.db', { SONDE_AGENT_MAX_WAITING: '0' })).agentLimits.maxQueued).toBe(0);
  });
});
