// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { agentView, hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeFleet } from './fleet.component.js';

customElements.define('test-fleet', class extends SondeFleet {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const rows = (el: SondeFleet): HTMLElement[] => Array.from(el.shadowRoot!.querySelectorAll<HTMLElement>('[part=row]'));

describe('<sonde-fleet>', () => {
  it('shows loading, then one row per agent with status, reason and an outdated flag', async () => {
    let release!: () => void;
    const hub = await startFixtureHub({
      'GET /api/v1/agents': {
        hold: new Promise<void>((resolve) => (release = resolve)),
        body: [
          agentView('db-1', { status: 'degraded', reasons: ['attestation changed'], agentVersion: '0.9.0' }),
          agentView('web-1', { agentVersion: '0.10.0' }),
        ],
      },
    });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    expect(shadowText(el)).toContain('Loading agents');
    release();
    await until(() => rows(el).length === 2);
    const db = rows(el).find((r) => r.dataset.agent === 'db-1')!;
    expect(db.querySelector('[part=status]')?.getAttribute('data-status')).toBe('degraded');
    expect(db.textContent).toContain('attestation changed');
    // 0.9.0 < 0.10.0 numerically, not as text.
    expect(db.textContent).toContain('outdated');
    expect(rows(el).find((r) => r.dataset.agent === 'web-1')!.textContent).not.toContain('outdated');
    expect(shadowText(el)).toContain('2 of 2 online');
  });

  it('says so when no agent is enrolled', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/agents': { body: [] } });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    await until(() => shadowText(el).includes('No agents enrolled yet'));
    expect(rows(el)).toHaveLength(0);
  });

  it('shows the hub error as an alert', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/agents': hubError(403, 'SONDE_ERR_FORBIDDEN', 'Admin role required.') });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    await until(() => el.shadowRoot!.querySelector('[role=alert]') !== null);
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).toContain('Admin role required.');
  });

  it('renders only the rows in view for 1,000 agents, and filters by search and status', async () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      agentView(`host-${String(i).padStart(4, '0')}`, { status: i % 10 === 0 ? 'offline' : 'online' }),
    );
    const hub = await startFixtureHub({ 'GET /api/v1/agents': { body: many } });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    await until(() => rows(el).length > 0);
    expect(rows(el).length).toBeLessThan(40);
    expect(el.shadowRoot!.querySelector('[role=table]')?.getAttribute('aria-rowcount')).toBe('1001');

    el.search = 'host-0999';
    await until(() => rows(el).length === 1);
    expect(rows(el)[0].dataset.agent).toBe('host-0999');

    el.search = '';
    el.status = 'offline';
    await until(() => shadowText(el).includes('100 shown'));
  });

  it('emits sonde-agent-select with the agent on click and on Enter', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/agents': { body: [agentView('web-1')] } });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    await until(() => rows(el).length === 1);
    const picked: string[] = [];
    document.addEventListener('sonde-agent-select', (e) => picked.push(e.detail.name));
    rows(el)[0].click();
    rows(el)[0].dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(picked).toEqual(['web-1', 'web-1']);
  });

  it('follows the event stream: snapshot, a new agent, a status change and a removal show without polling', async () => {
    let push!: (chunk: string) => void;
    const opened = new Promise<void>((resolve) => {
      push = () => resolve();
    });
    let lastEventId: string | undefined;
    const hub = await startFixtureHub({
      'GET /api/v1/agents': { body: [agentView('web-1')] },
      'GET /api/v1/events': (request) => {
        lastEventId = request.headers['last-event-id'] as string | undefined;
        return {
          sse: (write) => {
            const ready = push;
            push = write;
            ready('');
          },
        };
      },
    });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="0"></test-fleet>`);
    await opened;
    const frame = (id: number, event: string, data: unknown) => `id: e.${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    push(frame(1, 'snapshot', { agents: [agentView('web-1'), agentView('db-1')], auditSeq: 0 }));
    await until(() => rows(el).length === 2);
    // Split across chunks, as a network may deliver it.
    const added = frame(2, 'agent', { agent: agentView('app-1', { status: 'degraded', reasons: ['attestation changed'] }) });
    push(added.slice(0, 20));
    push(added.slice(20));
    await until(() => rows(el).some((r) => r.dataset.agent === 'app-1'));
    expect(rows(el).map((r) => r.dataset.agent)).toEqual(['app-1', 'db-1', 'web-1']);
    push(frame(3, 'agent', { agent: agentView('web-1', { status: 'offline', connected: false }) }));
    await until(
      () =>
        rows(el)
          .find((r) => r.dataset.agent === 'web-1')
          ?.querySelector('[part=status]')
          ?.getAttribute('data-status') === 'offline',
    );
    push(frame(4, 'agent-removed', { id: 'id-db-1', name: 'db-1' }));
    await until(() => rows(el).length === 2);
    expect(shadowText(el)).toContain('1 of 2 online');
    expect(lastEventId).toBeUndefined();
    expect(hub.calls.filter((c) => c.path === '/api/v1/agents').length).toBeLessThanOrEqual(1);
  });

  it('polls: a status change on the hub shows without a reload', async () => {
    let status = 'online';
    const hub = await startFixtureHub({ 'GET /api/v1/agents': () => ({ body: [agentView('web-1', { status })] }) });
    close = hub.close;
    const el = await mount<SondeFleet>(`<test-fleet hub="${hub.url}" poll-interval="50"></test-fleet>`);
    await until(() => rows(el).length === 1);
    status = 'offline';
    await until(() => rows(el)[0]?.querySelector('[part=status]')?.getAttribute('data-status') === 'offline');
  });
});
