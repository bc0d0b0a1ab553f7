// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError, keyView } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeApiKeys } from './api-keys.component.js';

customElements.define('test-api-keys', class extends SondeApiKeys {});
let close: (() => Promise<void>) | undefined;
beforeEach(() => {
  window.confirm = () => true;
});
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T => el.shadowRoot!.querySelector<T>(selector)!;

describe('<sonde-api-keys>', () => {
  it('lists user keys with scope and hides agent keys unless asked', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/api-keys': {
        body: [
          keyView('ci', { policy: { allowedAgents: ['prod-*'], allowedProbes: [], allowedClients: [] } }),
          keyView('agent:web-1', { type: 'agent' }),
        ],
      },
    });
    close = hub.close;
    const el = await mount<SondeApiKeys>(`<test-api-keys hub="${hub.url}"></test-api-keys>`);
    await until(() => el.shadowRoot!.querySelector('tr[data-key=ci]') !== null);
    expect(q(el, 'tr[data-key=ci]').textContent).toContain('agents prod-*');
    expect(el.shadowRoot!.querySelector('tr[data-key="agent:web-1"]')).toBeNull();
    el.showAgentKeys = true;
    await until(() => el.shadowRoot!.querySelector('tr[data-key="agent:web-1"]') !== null);
  });

  it('shows empty and error states', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/api-keys': { body: [] } });
    close = hub.close;
    const el = await mount<SondeApiKeys>(`<test-api-keys hub="${hub.url}"></test-api-keys>`);
    await until(() => shadowText(el).includes('No API keys yet'));
    await hub.close();
    const failing = await startFixtureHub({ 'GET /api/v1/api-keys': hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'The session expired.') });
    close = failing.close;
    el.hub = failing.url;
    await until(() => shadowText(el).includes('The session expired.'));
  });

  it('creates a key with its policy, shows the value once and emits an event without it', async () => {
    const created = keyView('n8n', { role: 'admin' });
    const hub = await startFixtureHub({
      'GET /api/v1/api-keys': { body: [] },
      'POST /api/v1/api-keys': { status: 201, body: { key: created, rawKey: 'sonde_SECRETVALUE' } },
    });
    close = hub.close;
    const el = await mount<SondeApiKeys>(`<test-api-keys hub="${hub.url}"></test-api-keys>`);
    const events: unknown[] = [];
    el.addEventListener('sonde-key-change', (e) => events.push(e.detail));
    q<HTMLInputElement>(el, 'input[name=name]').value = 'n8n';
    q<HTMLSelectElement>(el, 'select[name=role]').value = 'admin';
    q<HTMLInputElement>(el, 'input[name=agents]').value = 'prod-*, web-1';
    q<HTMLFormElement>(el, 'form').requestSubmit();
    await until(() => el.shadowRoot!.querySelector('[part=secret]') !== null);
    expect(q(el, '[part=secret] code').textContent).toBe('sonde_SECRETVALUE');
    expect(hub.calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'n8n',
      role: 'admin',
      policy: { allowedAgents: ['prod-*', 'web-1'], allowedProbes: [], allowedClients: [] },
    });
    expect(events).toEqual([{ action: 'create', id: created.id, name: 'n8n' }]);
    expect(JSON.stringify(events)).not.toContain('SECRET');
    // "Done" removes the value from the page for good.
    Array.from(el.shadowRoot!.querySelectorAll('button'))
      .find((b) => b.textContent?.trim() === 'Done')!
      .click();
    await el.updateComplete;
    expect(shadowText(el)).not.toContain('SECRETVALUE');
  });

  it('rotates and revokes through the REST routes and reports a refusal', async () => {
    const key = keyView('ci');
    const hub = await startFixtureHub({
      'GET /api/v1/api-keys': { body: [key] },
      'POST /api/v1/api-keys/key-ci/rotate': { body: { key, rawKey: 'sonde_NEW' } },
      'DELETE /api/v1/api-keys/key-ci': hubError(404, 'SONDE_ERR_NOT_FOUND', 'No such key.'),
    });
    close = hub.close;
    const el = await mount<SondeApiKeys>(`<test-api-keys hub="${hub.url}"></test-api-keys>`);
    await until(() => el.shadowRoot!.querySelector('tr[data-key=ci]') !== null);
    q<HTMLButtonElement>(el, 'button[aria-label="Rotate ci"]').click();
    await until(() => el.shadowRoot!.querySelector('[part=secret] code')?.textContent === 'sonde_NEW');
    q<HTMLButtonElement>(el, 'button[aria-label="Revoke ci"]').click();
    await until(() => shadowText(el).includes('No such key.'));
    expect(hub.calls.map((c) => `${c.method} ${c.path}`)).toContain('DELETE /api/v1/api-keys/key-ci');
  });
});
