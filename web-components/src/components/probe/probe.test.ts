// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { agentView, hubError, systemPack } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeProbe } from './probe.component.js';

customElements.define('test-probe', class extends SondeProbe {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);

async function withAgent(probeReply: { status?: number; body?: unknown }) {
  const agent = agentView('web-1', { packs: [systemPack()] });
  const hub = await startFixtureHub({
    'GET /api/v1/agents': { body: [agent] },
    'GET /api/v1/agents/web-1': { body: agent },
    'POST /api/v1/probes': probeReply,
  });
  close = hub.close;
  const el = await mount<SondeProbe>(`<test-probe hub="${hub.url}" agent="web-1" probe="system.processes.top"></test-probe>`);
  await until(() => q(el, 'form[part=form]') !== null);
  return { el, hub };
}

describe('<sonde-probe>', () => {
  it('builds the form from the params schema: enum, bounds, required, defaults, arrays, booleans', async () => {
    const { el } = await withAgent({ body: {} });
    const sortBy = q<HTMLSelectElement>(el, 'select[name=sortBy]')!;
    expect(sortBy.value).toBe('cpu');
    expect(Array.from(sortBy.options).map((o) => o.value)).toEqual(['cpu', 'memory']);
    const limit = q<HTMLInputElement>(el, 'input[name=limit]')!;
    expect([limit.min, limit.max, limit.step, limit.value, limit.required]).toEqual(['1', '100', '1', '20', true]);
    expect(q<HTMLInputElement>(el, 'input[name=user]')!.required).toBe(false);
    expect(q(el, `#${q<HTMLInputElement>(el, 'input[name=user]')!.getAttribute('aria-describedby')}`)?.textContent).toBe('only this user');
    expect(q<HTMLInputElement>(el, 'input[name=verbose]')!.type).toBe('checkbox');
    // Every control has a label.
    for (const control of Array.from(el.shadowRoot!.querySelectorAll('form[part=form] [name]')))
      expect(control.closest('label'), control.getAttribute('name')!).not.toBeNull();
  });

  it('sends typed params and renders a list of records as a table, with the truncation marker', async () => {
    const { el, hub } = await withAgent({
      body: {
        agent: 'web-1',
        probe: 'system.processes.top',
        status: 'ok',
        durationMs: 12,
        truncated: true,
        result: {
          totalProcesses: 2,
          processes: [
            { pid: 1, command: 'init' },
            { pid: 2, command: 'kthreadd' },
          ],
        },
      },
    });
    const events: unknown[] = [];
    el.addEventListener('sonde-probe-result', (e) => events.push(e.detail));
    q<HTMLInputElement>(el, 'input[name=limit]')!.value = '5';
    q<HTMLInputElement>(el, 'input[name=pids]')!.value = '1, 2';
    q<HTMLInputElement>(el, 'input[name=verbose]')!.checked = true;
    q<HTMLFormElement>(el, 'form[part=form]')!.requestSubmit();
    await until(() => q(el, '[part=result]') !== null);
    expect(hub.calls.find((c) => c.method === 'POST')?.body).toEqual({
      agent: 'web-1',
      probe: 'system.processes.top',
      params: { sortBy: 'cpu', limit: 5, pids: [1, 2], verbose: true },
    });
    expect(q(el, '[part=truncated]')).not.toBeNull();
    const cells = Array.from(el.shadowRoot!.querySelectorAll('[part=result-table] td')).map((td) => td.textContent?.trim());
    expect(cells).toEqual(['1', 'init', '2', 'kthreadd']);
    expect(events).toEqual([{ agent: 'web-1', probe: 'system.processes.top', status: 'ok', durationMs: 12, truncated: true }]);
  });

  it('shows a policy refusal from the hub', async () => {
    const { el } = await withAgent(hubError(403, 'SONDE_ERR_POLICY_DENIED', 'key may not run system.processes.top'));
    q<HTMLFormElement>(el, 'form[part=form]')!.requestSubmit();
    await until(() => shadowText(el).includes('key may not run'));
    expect(q(el, '[part=result]')).toBeNull();
  });

  it('says when the agent serves no probe, and when agents cannot be loaded', async () => {
    const bare = agentView('bare', { packs: [systemPack({ state: 'pending', manifest: undefined })] });
    const hub = await startFixtureHub({ 'GET /api/v1/agents': { body: [bare] }, 'GET /api/v1/agents/bare': { body: bare } });
    close = hub.close;
    const el = await mount<SondeProbe>(`<test-probe hub="${hub.url}" agent="bare"></test-probe>`);
    await until(() => shadowText(el).includes('serves no probes'));
    await hub.close();
    const down = await startFixtureHub({ 'GET /api/v1/agents': hubError(500, 'SONDE_ERR_INTERNAL', 'database locked') });
    close = down.close;
    const other = await mount<SondeProbe>(`<test-probe hub="${down.url}"></test-probe>`);
    await until(() => shadowText(other).includes('database locked'));
  });
});
