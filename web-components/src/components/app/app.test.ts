// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { defineSonde } from '../../define.js';
import { mount, shadowText, until } from '../../../test/dom.js';
import { agentView, hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import type { SondeApp } from './app.component.js';

// The app renders its children under its own prefix: register everything under one for the test.
defineSonde({ prefix: 'apptest' });
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  location.hash = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);

describe('<sonde-app>', () => {
  it('shows the login page when the hub says 401, signs in, and shows the fleet with the shared client', async () => {
    let signedIn = false;
    const hub = await startFixtureHub({
      'GET /api/v1/auth/me': () =>
        signedIn ? { body: { kind: 'user', id: 'u', name: 'admin', role: 'admin' } } : hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'no'),
      'POST /api/v1/auth/login': ({ body }) => {
        if ((body as { password: string }).password !== 'right') return hubError(401, 'SONDE_ERR_LOGIN_FAILED', 'Login failed.');
        signedIn = true;
        return { body: { kind: 'user', id: 'u', name: 'admin', role: 'admin' } };
      },
      'GET /api/v1/agents': { body: [agentView('web-1')] },
    });
    close = hub.close;
    const app = await mount<SondeApp>(`<apptest-app hub="${hub.url}"></apptest-app>`);
    await until(() => q(app, 'form[part=login]') !== null);
    q<HTMLInputElement>(app, 'input[name=user]')!.value = 'admin';
    q<HTMLInputElement>(app, 'input[name=password]')!.value = 'wrong';
    q<HTMLFormElement>(app, 'form[part=login]')!.requestSubmit();
    await until(() => shadowText(app).includes('Wrong user name or password'));
    q<HTMLInputElement>(app, 'input[name=password]')!.value = 'right';
    q<HTMLFormElement>(app, 'form[part=login]')!.requestSubmit();
    await until(() => q(app, 'apptest-fleet') !== null);
    const fleet = q<HTMLElement>(app, 'apptest-fleet')!;
    await until(() => fleet.shadowRoot?.querySelector('[data-agent=web-1]') != null);
    // The nav follows the guide: Manage / Fleet / Diagnostics, and marks the current page.
    expect(Array.from(app.shadowRoot!.querySelectorAll('nav [role=group]')).map((g) => g.getAttribute('aria-label'))).toEqual([
      'Manage',
      'Fleet',
      'Diagnostics',
    ]);
    expect(q(app, 'nav a[aria-current=page]')!.textContent).toBe('Fleet');
  });

  it('offers "Sign in with …" when the hub has a single sign-on provider, and local sign-in without one', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/auth/me': () => hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'no'),
      'GET /api/v1/auth/providers': {
        body: {
          local: { enabled: true, url: '/api/v1/auth/login' },
          sso: { kind: 'oidc', displayName: 'Keycloak', loginUrl: '/auth/oidc/login', logoutUrl: '/auth/oidc/logout' },
        },
      },
    });
    close = hub.close;
    const app = await mount<SondeApp>(`<apptest-app hub="${hub.url}"></apptest-app>`);
    await until(() => q(app, 'a[part=sso]') !== null);
    const link = q<HTMLAnchorElement>(app, 'a[part=sso]')!;
    expect(link.textContent?.trim()).toBe('Sign in with Keycloak');
    expect(link.getAttribute('href')).toBe(new URL('/auth/oidc/login', hub.url).href);
    expect(q(app, 'input[name=password]')).not.toBeNull();
  });

  it('offers "Sign in with …" again after signing out of a session the page opened with', async () => {
    let signedIn = true;
    const hub = await startFixtureHub({
      'GET /api/v1/auth/me': () =>
        signedIn ? { body: { kind: 'user', id: 'u', name: 'alice', role: 'admin' } } : hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'no'),
      'POST /api/v1/auth/logout': () => {
        signedIn = false;
        return { status: 204 };
      },
      'GET /api/v1/agents': { body: [] },
      'GET /api/v1/auth/providers': {
        body: {
          local: { enabled: true, url: '/api/v1/auth/login' },
          sso: { kind: 'oidc', displayName: 'Keycloak', loginUrl: '/auth/oidc/login', logoutUrl: '/auth/oidc/logout' },
        },
      },
    });
    close = hub.close;
    const app = await mount<SondeApp>(`<apptest-app hub="${hub.url}"></apptest-app>`);
    await until(() => shadowText(app).includes('Sign out'));
    const signOut = Array.from(app.shadowRoot!.querySelectorAll('button')).find((b) => b.textContent === 'Sign out')!;
    signOut.click();
    await until(() => q(app, 'a[part=sso]') !== null);
    expect(q(app, 'a[part=sso]')!.textContent?.trim()).toBe('Sign in with Keycloak');
  });

  it('routes by hash: #/manage/keys shows the keys page', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/auth/me': { body: { kind: 'api_key', id: 'k', name: 'ci', role: 'admin' } },
      'GET /api/v1/api-keys': { body: [] },
    });
    close = hub.close;
    location.hash = '#/manage/keys';
    const app = await mount<SondeApp>(`<apptest-app hub="${hub.url}" token="k"></apptest-app>`);
    await until(() => q(app, 'apptest-api-keys') !== null);
    expect(q(app, 'nav a[aria-current=page]')!.textContent).toBe('API Keys');
    // A key (not a session) has nothing to sign out of.
    expect(shadowText(app)).not.toContain('Sign out');
  });

  it('says when the hub cannot be reached', async () => {
    const hub = await startFixtureHub({});
    const url = hub.url;
    await hub.close();
    const app = await mount<SondeApp>(`<apptest-app hub="${url}"></apptest-app>`);
    await until(() => shadowText(app).includes('Cannot reach the hub'));
  });
});
