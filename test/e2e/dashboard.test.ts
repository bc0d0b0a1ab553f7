import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { agentHome, prepareFixturePack, removeDir, runCli, spawnAgent, type AgentProcess } from '../../agent/test/support/cli.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';
import { authorizationUrl, mcpWith, pkcePair, registerClient, TestUserAgent, tokenRequest } from '../../hub/test/oauth/support.js';

/**
 * The dashboard in headless Chromium against a real hub process and a real
 * agent: sign in as the local admin, see the agent in the fleet, open it, run
 * a probe from <sonde-probe>, create / rotate / revoke a key (and check with
 * the hub that each value works or stops working), read the audit entries and
 * the chain indicator. Light and dark screenshots of each page go to
 * .test-results/screenshots/.
 */
let stack: Stack;
let front: { url: string; close(): Promise<void> };
let chromium: { browser: Browser; close(): Promise<void> };
let page: Page;
const dialogs: string[] = [];
let fixture: string | undefined;
let liveHome: string | undefined;
let liveAgent: AgentProcess | undefined;

async function shoot(name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: screenshotPath(`${name}-light`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: screenshotPath(`${name}-dark`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
}

async function navigate(label: string): Promise<void> {
  await page.locator('sonde-app nav a', { hasText: label }).click();
}

async function meWith(key: string): Promise<number> {
  return (await stack.rest('/api/v1/auth/me', { key })).status;
}

describe.skipIf(!haveChromium())('dashboard in Chromium against a real hub and agent', () => {
  beforeAll(async () => {
    buildUi();
    stack = await startStack({ packs: ['system'], agentName: 'dash-agent' });
    await stack.waitForAgentOnline();
    front = await startUiFront(stack.hub.url, {
      // An intranet page that loads the bundle twice (two URLs: two module instances) and once more under another prefix.
      '/double.html': `<!doctype html><html><head>
        <script type="module" src="/ui/sonde.js"></script>
        <script type="module" src="/ui/sonde.js?copy=2"></script>
        <script type="module" src="/ui/sonde.js?prefix=acme"></script>
        </head><body>
        <sonde-fleet token="${stack.adminKey}" poll-interval="0"></sonde-fleet>
        <acme-health-badge token="${stack.adminKey}"></acme-health-badge>
        </body></html>`,
    });
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    // Fail with Playwright's message (what it waited for) before the test's own timeout.
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
  }, 180_000);

  afterAll(async () => {
    await liveAgent?.stop();
    if (liveHome) removeDir(liveHome);
    if (fixture) removeDir(path.dirname(fixture));
    await chromium?.close();
    await front?.close();
    await stack?.stop();
  });

  it('refuses a wrong password, then signs in and shows the agent online in the fleet', async () => {
    await page.goto(`${front.url}/`);
    await page.locator('sonde-app input[name=user]').fill('admin');
    await page.locator('sonde-app input[name=password]').fill('wrong-password');
    await page.locator('sonde-app button[type=submit]').click();
    await expect.poll(() => page.locator('sonde-app [role=alert]').textContent()).toContain('Wrong user name or password');
    await shoot('login');

    await page.locator('sonde-app input[name=password]').fill(stack.hubEnv.SONDE_ADMIN_PASSWORD);
    await page.locator('sonde-app button[type=submit]').click();
    const row = page.locator('sonde-fleet [part=row][data-agent=dash-agent]');
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.locator('[part=status]').getAttribute('data-status')).not.toBe('offline');
    await shoot('fleet');
  });

  it('opens the agent from the fleet and shows its packs', async () => {
    // Keyboard: a row is focusable and Enter opens it.
    await page.locator('sonde-fleet [part=row][data-agent=dash-agent]').focus();
    await page.keyboard.press('Enter');
    await page.locator('sonde-agent [part=packs] tr[data-pack=system]').waitFor({ timeout: 10_000 });
    expect(await page.locator('sonde-agent [part=packs] tr[data-pack=system]').textContent()).toContain('active');
    expect(page.url()).toContain('#/agent/dash-agent');
    await shoot('agent');
  });

  it('runs a probe from a form generated from its params schema and shows the typed result', { timeout: 60_000 }, async () => {
    await navigate('Probe');
    await page.locator('sonde-probe select[name=agent]').selectOption('dash-agent');
    const probeSelect = page.locator('sonde-probe select[name=probe]');
    await expect.poll(() => probeSelect.locator('option').allTextContents()).toContain('system.processes.top');
    await probeSelect.selectOption('system.processes.top');
    // The schema's enum became a select with its default; its bounds became min/max.
    expect(await page.locator('sonde-probe select[name=sortBy]').inputValue()).toBe('cpu');
    const limit = page.locator('sonde-probe input[name=limit]');
    expect(await limit.getAttribute('min')).toBe('1');
    expect(await limit.getAttribute('max')).toBe('100');
    await limit.fill('5');
    await page.locator('sonde-probe button[type=submit]').click();
    const status = page.locator('sonde-probe [part=result] [data-status]');
    await status.waitFor({ timeout: 30_000 });
    expect(await status.getAttribute('data-status')).toBe('ok');
    expect(await page.locator('sonde-probe [part=result] table').count()).toBeGreaterThan(0);
    await shoot('probe');
  });

  it('shows a pending pack with what it asks for and approves exactly that version', { timeout: 90_000 }, async () => {
    fixture = await prepareFixturePack(stack.user);
    const installed = await runCli(['packs', 'install', fixture, '--json'], { home: stack.agentHome, user: stack.user });
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    await navigate('Fleet');
    await page.locator('sonde-fleet [part=row][data-agent=dash-agent]').click();
    const row = page.locator('sonde-agent [part=packs] tr[data-pack=fixture]');
    await row.waitFor({ timeout: 30_000 });
    const approve = row.locator('button', { hasText: 'Approve' });
    await approve.waitFor({ timeout: 30_000 });
    await row.locator('summary').click();
    await shoot('agent-pending');
    await approve.click();
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('active');
    const { body } = await stack.rest<{ entries: Array<{ action: string; status: string; detail: string | null }> }>(
      '/api/v1/audit?tool=agent.pack.approve',
    );
    expect(body.entries.some((e) => e.status === 'ok' && e.detail?.startsWith('fixture@1.0.0'))).toBe(true);
  });

  it('creates a key (value shown once), rotates it (old value refused) and revokes it', { timeout: 60_000 }, async () => {
    await navigate('API Keys');
    const form = page.locator('sonde-api-keys [part=create-form]');
    await form.locator('input[name=name]').fill('browser-key');
    await form.locator('select[name=role]').selectOption('admin');
    await form.locator('button[type=submit]').click();
    const secret = page.locator('sonde-api-keys [part=secret] code');
    await secret.waitFor();
    const first = (await secret.textContent())!.trim();
    expect(first).toMatch(/^sonde_/);
    expect(await meWith(first)).toBe(200);
    await shoot('api-keys');

    const row = page.locator('sonde-api-keys tr[data-key=browser-key]');
    await row.locator('button', { hasText: 'Rotate' }).click();
    await expect.poll(async () => (await secret.textContent())?.trim()).not.toBe(first);
    const second = (await secret.textContent())!.trim();
    expect(second).toMatch(/^sonde_/);
    expect(await meWith(first)).toBe(401);
    expect(await meWith(second)).toBe(200);

    await page.locator('sonde-api-keys [part=secret] button', { hasText: 'Done' }).click();
    expect(await page.locator('sonde-api-keys [part=secret]').count()).toBe(0);
    await row.locator('button', { hasText: 'Revoke' }).click();
    await expect.poll(() => row.textContent()).toContain('revoked');
    expect(await meWith(second)).toBe(401);
    expect(dialogs.some((message) => message.includes('Rotate "browser-key"'))).toBe(true);
  });

  it(
    'enrolls an agent with the command the enrollment page shows, sees it appear live, and go offline when stopped',
    { timeout: 120_000 },
    async () => {
      await navigate('Enrollment');
      await page.locator('sonde-enrollment input[name=name]').fill('dash-live');
      await page.locator('sonde-enrollment button[type=submit]').click();
      const command = (await page.locator('sonde-enrollment [data-command]').textContent())!.trim();
      await shoot('enrollment');
      const args = command.split(/\s+/);
      expect(args.slice(0, 2)).toEqual(['sonde', 'enroll']);
      expect(args[args.indexOf('--hub') + 1]).toBe(front.url);

      await navigate('Fleet');
      liveHome = agentHome(stack.user, 'sonde-dash-live-');
      // The command as shown, against the hub itself (the page is served by a same-origin front in this test).
      const hubArgs = args.slice(1).map((arg, i, all) => (all[i - 1] === '--hub' ? stack.hub.url : arg));
      const enrolled = await runCli([...hubArgs, '--json'], { home: liveHome, user: stack.user });
      expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
      liveAgent = spawnAgent({ home: liveHome, user: stack.user });
      const row = page.locator('sonde-fleet [part=row][data-agent=dash-live]');
      const status = row.locator('[part=status]');
      await expect.poll(() => status.getAttribute('data-status').catch(() => null), { timeout: 30_000 }).toBe('online');

      const stoppedAt = Date.now();
      await liveAgent.stop();
      liveAgent = undefined;
      // The hub sees the socket close at once; the open page shows it within its 5 s poll.
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000, interval: 100 }).toBe('offline');
      const seenAfterMs = Date.now() - stoppedAt;
      console.log(`dashboard: agent offline shown ${seenAfterMs} ms after it stopped`);
      expect(seenAfterMs).toBeLessThan(5_000);
    },
  );

  it('shows the users, integrations, packs and trends pages', async () => {
    await navigate('Users');
    await page.locator('sonde-users tr[data-user=admin]').waitFor();
    await shoot('users');
    await navigate('Integrations');
    await page.locator('sonde-integrations h3', { hasText: 'Instances' }).waitFor();
    await shoot('integrations');
    await navigate('Packs');
    await page.locator('sonde-packs tr[data-pack=fixture][data-version="1.0.0"]').waitFor();
    expect(await page.locator('sonde-packs tr[data-pack=system]').textContent()).toContain('dash-agent');
    await shoot('packs');
    await navigate('Trends');
    await page.locator('sonde-trends tr[data-key="system.processes.top"]').waitFor();
    await shoot('trends');
  });

  it('lists an OAuth client the admin allowed under Connected apps and revokes it: its token stops working', async () => {
    // A real authorization on this hub: register, sign in as the local admin, allow, redeem the code.
    const redirect = 'https://app.example.com/callback';
    const registered = await registerClient(stack.hub.url, {
      client_name: 'Dashboard OAuth client',
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'none',
    });
    const clientId = registered.body.client_id as string;
    const { verifier, challenge } = pkcePair();
    const callback = await new TestUserAgent(stack.hub.url).authorize(
      authorizationUrl(stack.hub.url, { clientId, redirectUri: redirect, challenge, resource: `${stack.hub.url}/mcp` }),
      { kind: 'local', user: 'admin', password: stack.hubEnv.SONDE_ADMIN_PASSWORD },
    );
    const token = await tokenRequest(stack.hub.url, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: callback.searchParams.get('code')!,
      code_verifier: verifier,
      redirect_uri: redirect,
    });
    const accessToken = token.body.access_token as string;
    expect((await mcpWith(`${stack.hub.url}/mcp`, accessToken)).status).toBe(200);

    await navigate('Connected apps');
    const row = page.locator('sonde-connected-apps tr', { hasText: 'Dashboard OAuth client' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Use Sonde’s tools with your role');
    await shoot('connected-apps');
    await row.locator('button', { hasText: 'Revoke' }).click();
    await page.locator('sonde-connected-apps', { hasText: 'No app is connected in your name.' }).waitFor();
    expect(dialogs.at(-1)).toContain('Revoke Dashboard OAuth client?');
    expect((await mcpWith(`${stack.hub.url}/mcp`, accessToken)).status).toBe(401);
  });

  it('keeps working on a page that loads the bundle twice and again under another prefix', async () => {
    const other = await chromium.browser.newPage();
    const problems: string[] = [];
    other.on('pageerror', (error) => problems.push(error.message));
    other.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') problems.push(message.text());
    });
    await other.goto(`${front.url}/double.html`);
    await other.locator('sonde-fleet [part=row][data-agent=dash-agent]').waitFor();
    await expect.poll(() => other.locator('acme-health-badge [part=online]').textContent()).toMatch(/\d+\/\d+ online/);
    expect(problems).toEqual([]);
    await other.close();
  });

  it('shows the matching audit entries and an intact chain', async () => {
    await navigate('Audit');
    await page.locator('sonde-audit-log [data-chain=ok]').waitFor({ timeout: 15_000 });
    const actions = await page
      .locator('sonde-audit-log tr[data-action]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    for (const action of [
      'login',
      'rest.probe',
      'agent.pack.approve',
      'api_key.create',
      'api_key.rotate',
      'api_key.revoke',
      'enrollment_token.create',
      'agent.enroll',
    ])
      expect(actions, action).toContain(action);
    await shoot('audit');
  });
});
