import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubMetrics, instrumentDispatcher, MAX_PACK_LABELS } from '../../src/metrics/index.js';
import type { AgentView, DispatchResult } from '../../src/services.js';
import { startTestHub, type TestHub } from '../helpers.js';

/** One sample's value from the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('/metrics and /api/v1/ready on a hub', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => hub.close());

  it('serves the Prometheus text format with the hub, audit and runtime series, without authentication', async () => {
    // An audit entry is committed through the group commit the gauge watches.
    await hub.app.core.audit.append({ action: 'test.metrics', actor: { kind: 'system', id: null, name: null }, status: 'ok' });
    const response = await hub.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(sample(text, 'sonde_agents_connected')).toBe(0);
    expect(sample(text, 'sonde_agents{status="online"}')).toBe(0);
    expect(sample(text, 'sonde_audit_queue_depth')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    // No agent names, key ids or users in any label.
    expect(text).not.toMatch(/test-admin|test-member/);
  });

  it('counts a probe to an offline agent as an error of its pack, timed, and the agent as offline', async () => {
    await hub.app.core.store.agents.create({
      id: 'agent-offline-1',
      name: 'offline-1',
      enrolledAt: new Date().toISOString(),
      certPem: null,
      certSerial: null,
      certNotAfter: null,
      publicKeyPem: 'unused',
    });
    const response = await hub.app.inject({
      method: 'POST',
      url: '/api/v1/probes',
      headers: hub.auth(),
      payload: { agent: 'offline-1', probe: 'system.disk.usage', params: {} },
    });
    expect(response.json()).toMatchObject({ status: 'offline', error: { code: 'SONDE_ERR_AGENT_OFFLINE' } });
    const text = (await hub.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'sonde_agents{status="offline"}')).toBe(1);
    expect(sample(text, 'sonde_probe_calls_total{pack="system",status="offline"}')).toBe(1);
    expect(sample(text, 'sonde_probe_errors_total{pack="system"}')).toBe(1);
    expect(sample(text, 'sonde_probe_duration_seconds_count{pack="system"}')).toBe(1);
  });

  it('is ready while the database answers, and lists the readiness route in the OpenAPI document', async () => {
    const ready = await hub.app.inject({ method: 'GET', url: '/api/v1/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: { ok: true }, audit: { ok: true }, shutdown: { ok: true } } });
    const openapi = (await hub.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(openapi.paths)).toContain('/api/v1/ready');
  });
});

describe('readiness when the database is gone', () => {
  it('answers 503 naming the database while /api/v1/health still answers 200', async () => {
    const hub = await startTestHub();
    try {
      // The connection closed under the running hub: every store call fails.
      await hub.app.core.store.close();
      const ready = await hub.app.inject({ method: 'GET', url: '/api/v1/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'not_ready',
        checks: { database: { ok: false, detail: expect.stringMatching(/database did not answer/) }, shutdown: { ok: true } },
      });
      expect((await hub.app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      await hub.close().catch(() => undefined);
    }
  });
});

describe('metric labels stay bounded', () => {
  it('counts invented pack names past the limit, and names that are not pack names, as `other`', async () => {
    const agent: AgentView = {
      id: 'a',
      name: 'web-1',
      status: 'online',
      reasons: [],
      connected: true,
      lastSeenAt: null,
      enrolledAt: '',
      agentVersion: null,
      os: null,
      packs: [],
      isolation: null,
    };
    const metrics = createHubMetrics({ fleet: { list: () => [agent] }, audit: { queueDepth: () => 3 } });
    const answer: DispatchResult = { agent: 'web-1', probe: '', status: 'ok', durationMs: 5, truncated: false };
    const dispatcher = instrumentDispatcher({ dispatch: (request) => Promise.resolve({ ...answer, probe: request.probe }) }, metrics);
    for (let i = 0; i < MAX_PACK_LABELS + 50; i++) await dispatcher.dispatch({ agent: 'web-1', probe: `pack${i}.probe`, params: {} });
    await dispatcher.dispatch({ agent: 'web-1', probe: 'Bad Pack"}\n.x', params: {} });
    const text = await metrics.render();
    const packs = new Set([...text.matchAll(/^sonde_probe_calls_total\{pack="([^"]*)"/gm)].map((m) => m[1]));
    expect(packs.size).toBe(MAX_PACK_LABELS + 1);
    expect(sample(text, 'sonde_probe_calls_total{pack="other",status="ok"}')).toBe(51);
    expect(sample(text, 'sonde_agents_connected')).toBe(1);
    expect(sample(text, 'sonde_audit_queue_depth')).toBe(3);
    metrics.close();
  });
});
