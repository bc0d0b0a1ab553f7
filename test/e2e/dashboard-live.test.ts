import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHome, removeDir, runCli, spawnAgent, type AgentProcess } from '../../agent/test/support/cli.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The dashboard's live and cross-site behaviour in headless Chromium against
 * a real hub process and real agents:
 * - the event stream: with polling switched off, an agent that enrols and
 *   connects appears in an open <sonde-fleet>, and goes offline when stopped;
 * - CSRF: a form on another loopback origin (same site, so the SameSite=Lax
 *   session cookie travels with it) posting to the hub is refused.
 */
let stack: Stack;
let front: { url: string; close(): Promise<void> };
let chromium: { browser: Browser; close(): Promise<void> };
let liveHome: string | undefined;
let liveAgent: AgentProcess | undefined;

describe.skipIf(!haveChromium())('dashboard live updates and cross-site requests in Chromium', () => {
  beforeAll(async () => {
    buildUi();
    stack = await startStack({ packs: ['system'], agentName: 'live-base' });
    await stack.waitForAgentOnline();
    front = await startUiFront(stack.hub.url, {
      // poll-interval=0: no polling at all, so only the event stream can bring a change.
      '/live.html': `<!doctype html><html><head><script type="module" src="/ui/sonde.js"></script></head>
        <body><sonde-fleet token="${stack.adminKey}" poll-interval="0"></sonde-fleet></body></html>`,
    });
    chromium = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await liveAgent?.stop();
    if (liveHome) removeDir(liveHome);
    await chromium?.close();
    await front?.close();
    await stack?.stop();
  });

  it('shows an agent that enrols and connects while the page is open, and its going offline, from the event stream', async () => {
    const page: Page = await chromium.browser.newPage({ viewport: { width: 1280, height: 600 } });
    page.setDefaultTimeout(15_000);
    const agentLists: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/agents') agentLists.push(request.url());
    });
    await page.goto(`${front.url}/live.html`);
    await page.locator('sonde-fleet [part=row][data-agent=live-base]').waitFor();
    expect(await page.locator('sonde-fleet [part=row][data-agent=live-new]').count()).toBe(0);

    const { body } = await stack.rest<{ token: string }>('/api/v1/enrollment-tokens', { method: 'POST', body: '{}' });
    liveHome = agentHome(stack.user, 'sonde-live-');
    const enrolled = await runCli(['enroll', '--hub', stack.hub.url, '--token', body.token, '--name', 'live-new', '--json'], {
      home: liveHome,
      user: stack.user,
    });
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    const status = page.locator('sonde-fleet [part=row][data-agent=live-new] [part=status]');
    // Enrolled, not connected yet: the row appears offline…
    await expect.poll(() => status.getAttribute('data-status').catch(() => null), { timeout: 15_000 }).toBe('offline');
    liveAgent = spawnAgent({ home: liveHome, user: stack.user });
    // …then online once the agent registers.
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 30_000 }).toBe('online');
    await page.screenshot({ path: screenshotPath('fleet-live-new-agent') });

    const stoppedAt = Date.now();
    await liveAgent.stop();
    liveAgent = undefined;
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000, interval: 100 }).toBe('offline');
    console.log(`dashboard: agent offline shown ${Date.now() - stoppedAt} ms after it stopped (event stream)`);
    // One list at start; every change after it came through the stream.
    expect(agentLists.length).toBeLessThanOrEqual(1);
    await page.close();
  });

  it('refuses a form posted to the hub from another origin of the same site, although the session cookie travels', async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Sign in on the dashboard the hub serves itself.
    await page.goto(`${stack.hub.url}/`);
    await page.locator('sonde-app input[name=user]').fill('admin');
    await page.locator('sonde-app input[name=password]').fill(stack.hubEnv.SONDE_ADMIN_PASSWORD);
    await page.locator('sonde-app button[type=submit]').click();
    await page.locator('sonde-fleet [part=row][data-agent=live-base]').waitFor();
    expect((await context.cookies(stack.hub.url)).map((c) => c.name)).toContain('sonde_session');

    // The classic JSON-over-text/plain form: the body parses as the JSON the route expects.
    const attacker = await startUiFront(stack.hub.url, {
      '/attack.html': `<!doctype html><html><body>
        <form method="post" enctype="text/plain" action="${stack.hub.url}/api/v1/api-keys">
          <input type="hidden" name='{"name":"csrf-attack","role":"admin","x":"' value='"}'>
          <button type="submit">win a prize</button>
        </form></body></html>`,
    });
    try {
      await page.goto(`${attacker.url}/attack.html`);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${stack.hub.url}/api/v1/api-keys`),
        page.locator('button').click(),
      ]);
      // The cookie did travel (same site): the refusal is the CSRF check, not a missing session.
      expect(response.request().headers()['cookie'] ?? (await response.request().allHeaders()).cookie).toContain('sonde_session=');
      expect(response.status()).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SONDE_ERR_CSRF');
    } finally {
      await attacker.close();
    }
    const { body: keys } = await stack.rest<Array<{ name: string }>>('/api/v1/api-keys');
    expect(keys.map((k) => k.name)).not.toContain('csrf-attack');
    await context.close();
  });
});
