// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { buckets, groups, probeCalls } from './aggregate.js';
import { SondeTrends } from './trends.component.js';
import type { AuditRecord } from '../../internal/types.js';

customElements.define('test-trends', class extends SondeTrends {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);

let seq = 0;
const call = (
  minutesAgo: number,
  probe: string,
  agent: string,
  status: string,
  durationMs: number,
  action = 'rest.probe',
): AuditRecord => ({
  seq: ++seq,
  at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  hash: 'h',
  action,
  actor: { kind: 'user', id: 'u', name: 'admin' },
  agents: [agent],
  probe,
  status,
  durationMs,
});

describe('trend aggregation', () => {
  it('counts probe calls only, per bucket and per group, with error rate and latency percentiles', () => {
    const entries = [
      call(5, 'system.cpu.usage', 'web-1', 'ok', 10),
      call(6, 'system.cpu.usage', 'web-1', 'ok', 30),
      call(7, 'system.cpu.usage', 'web-2', 'error', 200, 'mcp.tool_call'),
      call(45, 'system.disk.usage', 'web-1', 'ok', 20),
      { ...call(3, 'x', 'web-1', 'ok', 1), action: 'api_key.create', probe: null },
    ];
    const calls = probeCalls(entries);
    expect(calls).toHaveLength(4);
    const now = Date.now();
    const series = buckets(calls, now - 3_600_000, now, 6);
    expect(series.map((b) => b.calls)).toEqual([0, 1, 0, 0, 0, 3]);
    expect(series[5]).toMatchObject({ errors: 1, p95Ms: 200 });
    expect(groups(calls, 'probe')).toEqual([
      { key: 'system.cpu.usage', calls: 3, errors: 1, p50Ms: 30, p95Ms: 200 },
      { key: 'system.disk.usage', calls: 1, errors: 0, p50Ms: 20, p95Ms: 20 },
    ]);
    expect(groups(calls, 'agent').map((g) => [g.key, g.calls])).toEqual([
      ['web-1', 3],
      ['web-2', 1],
    ]);
  });
});

describe('<sonde-trends>', () => {
  it('reads the range from the audit log, draws both charts and the per-probe table', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': {
        body: {
          entries: [call(5, 'system.cpu.usage', 'web-1', 'ok', 12), call(9, 'system.cpu.usage', 'web-1', 'denied', 0)],
          nextBefore: null,
        },
      },
    });
    close = hub.close;
    const el = await mount<SondeTrends>(`<test-trends hub="${hub.url}" range="1h" poll-interval="0"></test-trends>`);
    await until(() => q(el, 'tr[data-key="system.cpu.usage"]') !== null);
    expect(el.shadowRoot!.querySelectorAll('[part=chart] svg')).toHaveLength(2);
    expect(shadowText(el)).toContain('2 probe calls, 50 % failed');
    const from = new URL(hub.calls[0].path, 'http://x').searchParams.get('from')!;
    expect(Date.now() - Date.parse(from)).toBeGreaterThan(3_590_000);
    expect(Date.now() - Date.parse(from)).toBeLessThan(3_700_000);
  });

  it('shows empty and error states', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/audit': { body: { entries: [], nextBefore: null } } });
    close = hub.close;
    const el = await mount<SondeTrends>(`<test-trends hub="${hub.url}" poll-interval="0"></test-trends>`);
    await until(() => shadowText(el).includes('No probe calls in the last 24h'));
    await hub.close();
    const failing = await startFixtureHub({ 'GET /api/v1/audit': hubError(403, 'SONDE_ERR_FORBIDDEN', 'Admin role required.') });
    close = failing.close;
    el.hub = failing.url;
    await until(() => shadowText(el).includes('Admin role required.'));
  });
});
