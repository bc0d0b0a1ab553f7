// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { mount, shadowText, until } from '../../../test/dom.js';
import { SondeHealthBadge } from './health-badge.component.js';

customElements.define('test-health-badge', class extends SondeHealthBadge {});
const agent = (name: string, status: string): Record<string, unknown> => ({ id: name, name, status, reasons: [], packs: [] });
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});

describe('<sonde-health-badge>', () => {
  it('shows loading until the hub answers, then online/total and degraded', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const hub = await startFixtureHub({
      'GET /api/v1/agents': { hold, body: [agent('a', 'online'), agent('b', 'degraded'), agent('c', 'offline')] },
    });
    close = hub.close;
    const el = await mount<SondeHealthBadge>(`<test-health-badge hub="${hub.url}" token="k1" poll-interval="0"></test-health-badge>`);
    expect(shadowText(el)).toContain('Fleet …');
    release();
    await until(() => shadowText(el).includes('online'));
    expect(shadowText(el)).toMatch(/2\/3 online/);
    expect(el.shadowRoot!.querySelector('[part=degraded]')?.textContent).toContain('1 degraded');
    expect(hub.calls[0]?.authorization).toBe('Bearer k1');
  });

  it('shows 0/0 for an empty fleet and no degraded part', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/agents': { body: [] } });
    close = hub.close;
    const el = await mount<SondeHealthBadge>(`<test-health-badge hub="${hub.url}" poll-interval="0"></test-health-badge>`);
    await until(() => shadowText(el).includes('online'));
    expect(shadowText(el)).toMatch(/0\/0 online/);
    expect(el.shadowRoot!.querySelector('[part=degraded]')).toBeNull();
  });

  it('says the fleet is unavailable when the hub refuses, with the hub message as title', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents': { status: 401, body: { error: { code: 'SONDE_ERR_UNAUTHORIZED', message: 'The API key is unknown.' } } },
    });
    close = hub.close;
    const el = await mount<SondeHealthBadge>(`<test-health-badge hub="${hub.url}" token="bad" poll-interval="0"></test-health-badge>`);
    await until(() => shadowText(el).includes('unavailable'));
    expect(el.shadowRoot!.querySelector('[part=badge]')?.getAttribute('title')).toBe('The API key is unknown.');
  });

  it('follows the event stream: an agent going offline changes the count without polling', async () => {
    let push: (chunk: string) => void = () => undefined;
    let opened!: () => void;
    const ready = new Promise<void>((resolve) => (opened = resolve));
    const hub = await startFixtureHub({
      'GET /api/v1/agents': { body: [agent('a', 'online'), agent('b', 'online')] },
      'GET /api/v1/events': () => ({
        sse: (write) => {
          push = write;
          opened();
        },
      }),
    });
    close = hub.close;
    const el = await mount<SondeHealthBadge>(`<test-health-badge hub="${hub.url}" token="k1" poll-interval="0"></test-health-badge>`);
    await ready;
    const frame = (id: number, event: string, data: unknown) => `id: e.${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    push(frame(1, 'snapshot', { agents: [agent('a', 'online'), agent('b', 'online')], auditSeq: 0 }));
    await until(() => shadowText(el).includes('2/2 online'));
    push(frame(2, 'agent', { agent: agent('b', 'offline') }));
    await until(() => shadowText(el).includes('1/2 online'));
    expect(hub.calls.filter((c) => c.path === '/api/v1/agents').length).toBeLessThanOrEqual(1);
  });
});
