// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeUsers } from './users.component.js';

customElements.define('test-users', class extends SondeUsers {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const user = { id: 'u1', name: 'josh', email: 'josh@example.com', role: 'member', enabled: true, createdAt: '2026-12-01T00:00:00Z' };

describe('<sonde-users>', () => {
  it('lists users, disables one and adds one before first login', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/users': { body: [user] },
      'PATCH /api/v1/users/u1': { body: { ...user, enabled: false } },
      'POST /api/v1/users': { status: 201, body: { ...user, id: 'u2', name: 'ana' } },
    });
    close = hub.close;
    const el = await mount<SondeUsers>(`<test-users hub="${hub.url}"></test-users>`);
    await until(() => q(el, 'tr[data-user=josh]') !== null);
    const enabled = q<HTMLInputElement>(el, 'input[aria-label="josh enabled"]')!;
    enabled.checked = false;
    enabled.dispatchEvent(new Event('change'));
    await until(() => hub.calls.some((c) => c.method === 'PATCH'));
    expect(hub.calls.find((c) => c.method === 'PATCH')!.body).toEqual({ enabled: false });
    q<HTMLInputElement>(el, 'input[name=name]')!.value = 'ana';
    q<HTMLInputElement>(el, 'input[name=email]')!.value = 'ana@example.com';
    q<HTMLSelectElement>(el, 'select[name=role]')!.value = 'admin';
    q<HTMLFormElement>(el, 'form')!.requestSubmit();
    await until(() => hub.calls.some((c) => c.method === 'POST'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'ana', email: 'ana@example.com', role: 'admin' });
  });

  it('shows empty and error states', async () => {
    const hub = await startFixtureHub({ 'GET /api/v1/users': { body: [] } });
    close = hub.close;
    const el = await mount<SondeUsers>(`<test-users hub="${hub.url}"></test-users>`);
    await until(() => shadowText(el).includes('No users.'));
    await hub.close();
    const failing = await startFixtureHub({ 'GET /api/v1/users': hubError(403, 'SONDE_ERR_FORBIDDEN', 'Admin role required.') });
    close = failing.close;
    el.hub = failing.url;
    await until(() => shadowText(el).includes('Admin role required.'));
  });
});
