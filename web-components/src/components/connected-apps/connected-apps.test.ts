// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeConnectedApps, type ConsentView } from './connected-apps.component.js';

customElements.define('test-connected-apps', class extends SondeConnectedApps {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  vi.unstubAllGlobals();
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const consent: ConsentView = {
  id: 'g1',
  userId: 'u1',
  clientId: 'https://claude.ai/oauth/mcp-client-metadata',
  clientName: 'Claude',
  scopes: ['mcp'],
  createdAt: '2026-12-01T00:00:00Z',
  expiresAt: '2026-12-15T00:00:00Z',
};

describe('<sonde-connected-apps>', () => {
  it('lists the consents and revokes one after the user confirms; the list reloads and an event says which', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/oauth/consents': { body: { consents: [consent] } },
      'DELETE /api/v1/oauth/consents/g1': { status: 204 },
    });
    close = hub.close;
    const el = await mount<SondeConnectedApps>(`<test-connected-apps hub="${hub.url}"></test-connected-apps>`);
    await until(() => q(el, 'tr[data-consent=g1]') !== null);
    expect(shadowText(el)).toContain('Claude');
    expect(shadowText(el)).toContain(consent.clientId);
    expect(shadowText(el)).toContain('Use Sonde’s tools with your role');
    const revoked: unknown[] = [];
    el.addEventListener('sonde-consent-revoked', (e) => revoked.push((e as CustomEvent).detail));

    // Cancelled: nothing is sent.
    vi.stubGlobal('confirm', vi.fn().mockReturnValueOnce(false).mockReturnValueOnce(true));
    q<HTMLButtonElement>(el, 'button[aria-label="Revoke Claude"]')!.click();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hub.calls.some((c) => c.method === 'DELETE')).toBe(false);

    q<HTMLButtonElement>(el, 'button[aria-label="Revoke Claude"]')!.click();
    await until(() => revoked.length === 1);
    expect(hub.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/v1/oauth/consents/g1']);
    expect(revoked[0]).toEqual({ id: 'g1', clientId: consent.clientId });
    await until(() => hub.calls.filter((c) => c.method === 'GET').length === 2);
  });

  it('names the user of each consent when an admin key sees several users; empty and error states', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/oauth/consents': { body: { consents: [consent, { ...consent, id: 'g2', userId: 'u2', clientName: null }] } },
    });
    close = hub.close;
    const el = await mount<SondeConnectedApps>(`<test-connected-apps hub="${hub.url}"></test-connected-apps>`);
    await until(() => q(el, 'tr[data-consent=g2]') !== null);
    expect(q(el, 'th:nth-child(2)')!.textContent).toBe('User');
    expect(q(el, 'tr[data-consent=g2] td:nth-child(2)')!.textContent).toBe('u2');
    await hub.close();

    const empty = await startFixtureHub({ 'GET /api/v1/oauth/consents': { body: { consents: [] } } });
    el.hub = empty.url;
    await until(() => shadowText(el).includes('No app is connected in your name.'));
    await empty.close();
    const failing = await startFixtureHub({ 'GET /api/v1/oauth/consents': hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'Sign in first.') });
    close = failing.close;
    el.hub = failing.url;
    await until(() => shadowText(el).includes('Sign in first.'));
  });
});
