import { createServer } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, TEST_SECRET, testEnv } from '../../hub/test/helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { startOidcProvider, type TestProvider } from '../../hub/test/support/oidc-provider.js';
import { buildUi, haveChromium, launchChromium, screenshotPath } from './support/browser.js';

/**
 * Issue 20's browser test: in headless Chromium, the dashboard a real hub
 * process serves offers "Sign in with Keycloak"; the click goes to a real
 * OpenID Connect provider (oidc-provider on loopback), the user signs in there
 * (a plain form POST to its test interaction route: no page is scraped), and
 * the browser comes back to the dashboard signed in, as the role the hub gave:
 * admin by an individual entry, member through an authorized group (who gets
 * no REST), refused when neither matches.
 */
let provider: TestProvider;
let hub: RunningHub;
let tmp: { dir: string; cleanup: () => void };
let chromium: { browser: Browser; close(): Promise<void> };

/** The callback URL must be registered at the provider before the hub starts: take a free loopback port first. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!haveChromium())('dashboard single sign-on in Chromium against a real provider and hub', () => {
  beforeAll(async () => {
    buildUi();
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({
      clients: [
        {
          client_id: 'sonde-dashboard',
          client_secret: 'dashboard-secret-0123456789',
          redirect_uris: [`${publicUrl}/auth/oidc/callback`],
          post_logout_redirect_uris: [`${publicUrl}/`],
        },
      ],
    });
    tmp = tempDir('sonde-sso-browser-');
    const dbPath = path.join(tmp.dir, 'sonde.db');
    hub = await startHubProcess(
      testEnv(dbPath, {
        SONDE_LOG_LEVEL: 'info', // startHubProcess waits for the 'listening' line
        SONDE_PORT: String(port),
        SONDE_PUBLIC_URL: publicUrl,
        SONDE_OIDC_ISSUER: provider.issuer,
        SONDE_OIDC_CLIENT_ID: 'sonde-dashboard',
        SONDE_OIDC_CLIENT_SECRET: 'dashboard-secret-0123456789',
        SONDE_OIDC_DISPLAY_NAME: 'Keycloak',
      }),
    );
    const admin = { SONDE_SECRET: TEST_SECRET, SONDE_DB_PATH: dbPath };
    for (const args of [
      ['users', 'add', 'ada@example.com', '--role', 'admin', '--name', 'Ada Lovelace'],
      ['groups', 'add', 'sre', '--name', 'SRE', '--role', 'member'],
    ]) {
      const done = await runCli(args, admin);
      if (done.code !== 0) throw new Error(done.stderr);
    }
    chromium = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await hub?.stop();
    await provider?.close();
    tmp?.cleanup();
  });

  /** From the dashboard's login form to wherever the hub sends the browser back. */
  async function signIn(page: Page, claims: Record<string, unknown>, accountId: string): Promise<void> {
    await page.goto(`${hub.url}/`);
    const link = page.locator('sonde-app [part=sso]');
    expect((await link.textContent())?.trim()).toBe('Sign in with Keycloak');
    await link.click();
    // At the provider: its interaction page (the test route answers JSON); sign in with a form, as a login page would.
    await page.waitForURL((url) => url.origin === provider.origin && url.pathname.includes('/interaction/'));
    // A string, not a function: this file is type-checked without the DOM library.
    const fields = JSON.stringify({ accountId, claims: JSON.stringify(claims) });
    await page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = location.href;
      for (const [name, value] of Object.entries(${fields})) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    })()`);
    await page.waitForURL((url) => url.origin === new URL(hub.url).origin && !url.pathname.startsWith('/auth/'));
  }

  const me = (page: Page) =>
    page.evaluate(async () => {
      const res = await fetch('/api/v1/auth/me');
      return { status: res.status, body: (await res.json()) as { name?: string; role?: string; kind?: string } };
    });

  it('"Sign in with Keycloak" ends on the dashboard signed in as the admin the user was added as', async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await signIn(page, { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' }, 'ada-subject');
      await page.locator('sonde-app sonde-fleet').waitFor();
      expect(await page.locator('sonde-app header .muted').textContent()).toContain('Ada Lovelace');
      expect(await me(page)).toMatchObject({ status: 200, body: { kind: 'user', role: 'admin' } });
      expect(await page.evaluate(async () => (await fetch('/api/v1/agents')).status)).toBe(200);
      await page.screenshot({ path: screenshotPath('sso-signed-in'), fullPage: true });

      // Sign out ends the session: the login form again, and the hub answers 401.
      await page.locator('sonde-app header button', { hasText: 'Sign out' }).click();
      await page.locator('sonde-app form[part=login]').waitFor();
      expect((await me(page)).status).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('a member through an authorized group is signed in as member (no REST); a user nothing authorizes comes back refused', async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await signIn(page, { email: 'grace@example.com', name: 'Grace Hopper', groups: ['sre'] }, 'grace-subject');
      expect(await me(page)).toMatchObject({ status: 200, body: { role: 'member' } });
      expect(await page.evaluate(async () => (await fetch('/api/v1/agents')).status)).toBe(403);
    } finally {
      await context.close();
    }
    const stranger = await chromium.browser.newContext();
    const refusedPage = await stranger.newPage();
    refusedPage.setDefaultTimeout(15_000);
    try {
      await signIn(refusedPage, { email: 'mallory@example.com', name: 'Mallory' }, 'mallory-subject');
      expect(new URL(refusedPage.url()).searchParams.get('sso_error')).toBeTruthy();
      await expect.poll(() => refusedPage.locator('sonde-app [role=alert]').textContent()).toContain('Single sign-on was refused');
      expect((await me(refusedPage)).status).toBe(401);
    } finally {
      await stranger.close();
    }
  });
});
