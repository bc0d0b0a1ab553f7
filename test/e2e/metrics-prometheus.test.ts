import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The hub's /metrics scraped by a real Prometheus: a real hub process, a real
 * agent connected to it and real probe calls, read back through PromQL.
 */
describe('hub metrics scraped by a real Prometheus', () => {
  let stack: Stack;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    stack = await startStack({ packs: ['system'], agentName: 'metrics-agent' });
    await stack.waitForAgentOnline();
    prometheus = await startPrometheus([{ job: 'sonde-hub', target: `127.0.0.1:${stack.hub.port}` }]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
  });

  it('scrapes the hub without errors and sees the connected agent', async () => {
    await prometheus!.waitFor('up{job="sonde-hub"}', (v) => v === 1);
    const [target] = await prometheus!.targets();
    expect(target).toMatchObject({ job: 'sonde-hub', health: 'up', lastError: '' });
    expect(await prometheus!.waitFor('sonde_agents_connected', (v) => v === 1)).toBe(1);
    expect(await prometheus!.value('sonde_agents{status="online"}')).toBe(1);
  });

  it('counts probe calls, errors and latency by pack', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await stack.rest<{ status: string }>('/api/v1/probes', {
        method: 'POST',
        body: JSON.stringify({ agent: stack.agentName, probe: 'system.disk.usage', params: {} }),
      });
      expect(ok.body.status).toBe('ok');
    }
    const failed = await stack.rest<{ status: string }>('/api/v1/probes', {
      method: 'POST',
      body: JSON.stringify({ agent: stack.agentName, probe: 'system.no-such-probe', params: {} }),
    });
    expect(failed.body.status).not.toBe('ok');
    await prometheus!.waitFor('sum(sonde_probe_calls_total{pack="system",status="ok"})', (v) => v === 3);
    expect(await prometheus!.waitFor('sonde_probe_errors_total{pack="system"}', (v) => v === 1)).toBe(1);
    expect(await prometheus!.value('sonde_probe_duration_seconds_count{pack="system"}')).toBe(4);
    const p50 = await prometheus!.value('histogram_quantile(0.5, sum by (le) (sonde_probe_duration_seconds_bucket{pack="system"}))');
    expect(p50).toBeGreaterThan(0);
  });

  it('reads the audit queue, event-loop lag and memory series', async () => {
    expect(await prometheus!.value('sonde_audit_queue_depth{job="sonde-hub"}')).toBe(0);
    expect(await prometheus!.value('nodejs_eventloop_lag_seconds{job="sonde-hub"}')).toBeGreaterThanOrEqual(0);
    expect(await prometheus!.value('process_resident_memory_bytes{job="sonde-hub"}')).toBeGreaterThan(10_000_000);
  });

  it('is ready, and live, over HTTP', async () => {
    const ready = await fetch(`${stack.hub.url}/api/v1/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });
});
