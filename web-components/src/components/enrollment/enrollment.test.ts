// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeEnrollment } from './enrollment.component.js';

customElements.define('test-enrollment', class extends SondeEnrollment {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const token = (state: string) => ({
  id: `t-${state}`,
  prefix: 'sonde_et_ab',
  boundName: null,
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 900_000).toISOString(),
  usedAt: null,
  usedBy: null,
  state,
});

describe('<sonde-enrollment>', () => {
  it('generates a token bound to a name and shows the enroll command once', async () => {
    const command = 'sonde enroll --hub http://hub.example --token sonde_et_FULL --name web-9';
    const hub = await startFixtureHub({
      'GET /api/v1/enrollment-tokens': { body: [] },
      'POST /api/v1/enrollment-tokens': { status: 201, body: { ...token('active'), boundName: 'web-9', token: 'sonde_et_FULL', command } },
    });
    close = hub.close;
    const el = await mount<SondeEnrollment>(`<test-enrollment hub="${hub.url}"></test-enrollment>`);
    await until(() => shadowText(el).includes('No enrollment tokens yet'));
    q<HTMLInputElement>(el, 'input[name=name]')!.value = 'web-9';
    q<HTMLFormElement>(el, 'form')!.requestSubmit();
    await until(() => q(el, '[data-command]') !== null);
    expect(q(el, '[data-command]')!.textContent).toBe(command);
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'web-9' });
  });

  it('lists tokens by state; only active ones can be revoked', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/enrollment-tokens': { body: [token('active'), token('used'), token('expired')] },
      'DELETE /api/v1/enrollment-tokens/t-active': { status: 204 },
    });
    close = hub.close;
    window.confirm = () => true;
    const el = await mount<SondeEnrollment>(`<test-enrollment hub="${hub.url}"></test-enrollment>`);
    await until(() => el.shadowRoot!.querySelectorAll('tr[data-token]').length === 3);
    expect(el.shadowRoot!.querySelectorAll('button.danger')).toHaveLength(1);
    q<HTMLButtonElement>(el, 'tr[data-token=t-active] button')!.click();
    await until(() => hub.calls.some((c) => c.method === 'DELETE'));
  });

  it('shows the hub error', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/enrollment-tokens': hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'Log in again.') });
    close = hub.close;
    const el = await mount<SondeEnrollment>(`<test-enrollment hub="${hub.url}"></test-enrollment>`);
    await until(() => shadowText(el).includes('Log in again.'));
  });
});
