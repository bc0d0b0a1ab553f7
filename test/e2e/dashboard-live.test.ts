import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
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
 * - embedding: a portal page on another origin shows the fleet live with an
 *   embed token, in script mode and in iframe mode (token by postMessage); it
 *   cannot write or read an agent outside the token's scope; a page on an
 *   origin the hub does not list gets nothing.
 * - attestation: an agent whose configuration changed comes back degraded;
 *   an admin reads the difference on its page and accepts the new baseline.
 */
let stack: Stack;
let front: { url: string; close(): Promise<void> };
let chromium: { browser: Browser; close(): Promise<void> };
let liveHome: string | undefined;
let liveAgent: AgentProcess | undefined;
/** The base agent started again after its configuration changed (the attestation test). */
let restarted: AgentProcess | undefined;
/** Portal pages served from other loopback ports: one the hub lists in SONDE_EMBED_ORIGINS, one it does not. */
let portal: Portal;
let stranger: Portal;

/** The page's registry, typed here because the tests compile without the DOM library. */
interface CustomElementRegistryLike {
  get(name: string): unknown;
}

interface Portal {
  url: string;
  pages: Map<string, string>;
  close(): Promise<void>;
}

async function startPortal(): Promise<Portal> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const page = pages.get(new URL(req.url ?? '/', 'http://portal').pathname);
    if (page === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A portal page: script mode (the element on the page) or iframe mode (the hub's /embed/fleet, token by postMessage). */
function portalPage(mode: 'script' | 'iframe', hub: string, token: string): string {
  if (mode === 'script')
    return `<!doctype html><html><head><script type="module" src="${hub}/ui/sonde.js"></script></head>
      <body><h1>Intranet</h1><sonde-fleet hub="${hub}" token="${token}" poll-interval="0"></sonde-fleet></body></html>`;
  return `<!doctype html><html><body><h1>Intranet</h1>
    <iframe id="sonde" src="${hub}/embed/fleet" style="width:1100px;height:500px;border:0"></iframe>
    <script>
      addEventListener('message', (event) => {
        if (event.origin !== ${JSON.stringify(hub)} || event.data?.type !== 'sonde-embed-ready') return;
        document.getElementById('sonde').contentWindow.postMessage({ type: 'sonde-embed-token', token: ${JSON.stringify(token)} }, ${JSON.stringify(hub)});
      });
    </script></body></html>`;
}

describe.skipIf(!haveChromium())('dashboard live updates and cross-site requests in Chromium', () => {
  beforeAll(async () => {
    buildUi();
    portal = await startPortal();
    stranger = await startPortal();
    stack = await startStack({ packs: ['system'], agentName: 'live-base', hubEnv: { SONDE_EMBED_ORIGINS: portal.url } });
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
    await restarted?.stop();
    if (liveHome) removeDir(liveHome);
    await chromium?.close();
    await front?.close();
    await portal?.close();
    await stranger?.close();
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

  it('embeds the fleet in a page on another origin, script and iframe mode, live, read-only and scoped', { timeout: 90_000 }, async () => {
    const { status, body } = await stack.rest<{ token: string }>('/api/v1/embed-tokens', {
      method: 'POST',
      body: JSON.stringify({ agents: ['live-*'], origins: [portal.url], ttlSeconds: 600 }),
    });
    expect(status).toBe(201);
    const hub = stack.hub.url;
    // An agent outside the token's globs.
    const { body: outside } = await stack.rest<{ token: string }>('/api/v1/enrollment-tokens', { method: 'POST', body: '{}' });
    const outsideHome = agentHome(stack.user, 'sonde-outside-');
    try {
      const enrolled = await runCli(['enroll', '--hub', hub, '--token', outside.token, '--name', 'other-1', '--json'], {
        home: outsideHome,
        user: stack.user,
      });
      expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    } finally {
      removeDir(outsideHome);
    }
    for (const site of [portal, stranger]) {
      site.pages.set('/script.html', portalPage('script', hub, body.token));
      site.pages.set('/iframe.html', portalPage('iframe', hub, body.token));
    }
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 700 } });
    try {
      // Script mode.
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${portal.url}/script.html`);
      await page.locator('sonde-fleet [part=row][data-agent=live-base]').waitFor();
      expect(await page.locator('sonde-fleet [part=row][data-agent=other-1]').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('embed-script-mode') });
      // The same page tries more than reading: writes never leave the browser (no CORS for them), out-of-scope reads are not found.
      const attempts = await page.evaluate(
        async ({ hub, token }) => {
          const auth = { authorization: `Bearer ${token}` };
          const outcome = async (url: string, init: RequestInit = {}) => {
            try {
              return String(
                (
                  await fetch(`${hub}${url}`, {
                    ...init,
                    headers: { ...auth, ...(init.body ? { 'content-type': 'application/json' } : {}) },
                  })
                ).status,
              );
            } catch {
              return 'blocked';
            }
          };
          return {
            revoke: await outcome('/api/v1/agents/live-base', { method: 'DELETE' }),
            key: await outcome('/api/v1/api-keys', { method: 'POST', body: '{"name":"x","role":"admin"}' }),
            approve: await outcome('/api/v1/agents/live-base/packs/system/approve', { method: 'POST', body: '{}' }),
            adminList: await outcome('/api/v1/agents'),
            outside: await outcome('/api/v1/embed/agents/other-1'),
            inside: await outcome('/api/v1/embed/agents/live-base'),
          };
        },
        { hub, token: body.token },
      );
      expect(attempts).toEqual({
        revoke: 'blocked',
        key: 'blocked',
        approve: 'blocked',
        adminList: 'blocked',
        outside: '404',
        inside: '200',
      });
      const { body: agents } = await stack.rest<Array<{ name: string }>>('/api/v1/agents');
      expect(agents.map((a) => a.name)).toContain('live-base');

      // Iframe mode: the token arrives by postMessage once the frame says it is ready.
      const framed = await context.newPage();
      framed.setDefaultTimeout(15_000);
      await framed.goto(`${portal.url}/iframe.html`);
      const frame = framed.frameLocator('#sonde');
      await frame.locator('sonde-fleet [part=row][data-agent=live-base]').waitFor();
      expect(await frame.locator('sonde-fleet [part=row][data-agent=other-1]').count()).toBe(0);
      // Live: an agent that enrols into the token's scope appears in both pages without a reload.
      const { body: next } = await stack.rest<{ token: string }>('/api/v1/enrollment-tokens', { method: 'POST', body: '{}' });
      const nextHome = agentHome(stack.user, 'sonde-live-2-');
      try {
        const enrolled = await runCli(['enroll', '--hub', hub, '--token', next.token, '--name', 'live-embed', '--json'], {
          home: nextHome,
          user: stack.user,
        });
        expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
      } finally {
        removeDir(nextHome);
      }
      await frame.locator('sonde-fleet [part=row][data-agent=live-embed]').waitFor();
      await page.locator('sonde-fleet [part=row][data-agent=live-embed]').waitFor();
      // Under the hub's strict CSP (no inline style attributes) the virtualised rows still stack, one below the other.
      const tops = await Promise.all(
        ['live-base', 'live-embed'].map(
          async (name) => (await frame.locator(`sonde-fleet [part=row][data-agent=${name}]`).boundingBox())!.y,
        ),
      );
      expect(Math.abs(tops[0] - tops[1])).toBeGreaterThanOrEqual(40);
      await framed.screenshot({ path: screenshotPath('embed-iframe-mode') });

      // A page on an origin the hub does not list: the script cannot read, the frame is refused.
      const strange = await context.newPage();
      const corsRefused = new Promise<void>((resolve) =>
        strange.on('console', (message) => {
          if (message.text().includes('CORS')) resolve();
        }),
      );
      await strange.goto(`${stranger.url}/script.html`);
      // The module is fetched with CORS: without the header the bundle never runs, so no element, no request with the token.
      await corsRefused;
      expect(
        await strange.evaluate(
          () => (globalThis as unknown as { customElements: CustomElementRegistryLike }).customElements.get('sonde-fleet') === undefined,
        ),
      ).toBe(true);
      expect(await strange.locator('sonde-fleet [part=row]').count()).toBe(0);
      const strangeFrame = await context.newPage();
      const refused = new Promise<void>((resolve) =>
        strangeFrame.on('console', (message) => {
          if (message.text().includes('frame-ancestors')) resolve();
        }),
      );
      await strangeFrame.goto(`${stranger.url}/iframe.html`);
      await refused;
      expect(await strangeFrame.frameLocator('#sonde').locator('sonde-fleet').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('shows a changed attestation on the agent page and accepts it as the new baseline', { timeout: 90_000 }, async () => {
    // A real change: the agent's configuration (its digest is part of the attestation), then a restart.
    await stack.agent.stop();
    const configFile = path.join(stack.agentHome, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, `${JSON.stringify({ ...config, logLevel: config.logLevel === 'debug' ? 'info' : 'debug' }, null, 2)}\n`);
    restarted = spawnAgent({ home: stack.agentHome, user: stack.user });
    await expect
      .poll(async () => (await stack.rest<{ status: string; reasons: string[] }>('/api/v1/agents/live-base')).body, { timeout: 30_000 })
      .toMatchObject({ status: 'degraded' });

    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${stack.hub.url}/#/agent/live-base`);
      await page.locator('sonde-app input[name=user]').fill('admin');
      await page.locator('sonde-app input[name=password]').fill(stack.hubEnv.SONDE_ADMIN_PASSWORD);
      await page.locator('sonde-app button[type=submit]').click();
      if (!page.url().includes('#/agent/live-base')) await page.goto(`${stack.hub.url}/#/agent/live-base`);
      const panel = page.locator('sonde-agent [part=attestation]');
      await panel.waitFor();
      await panel.locator('summary').click();
      expect(await panel.textContent()).toContain('"configSha256"');
      await page.screenshot({ path: screenshotPath('agent-attestation-changed'), fullPage: true });
      await panel.locator('button', { hasText: 'Accept as new baseline' }).click();
      await expect.poll(() => panel.count(), { timeout: 15_000 }).toBe(0);
      await expect
        .poll(async () => (await stack.rest<{ status: string }>('/api/v1/agents/live-base')).body.status, { timeout: 15_000 })
        .toBe('online');
      const { body } = await stack.rest<{ entries: Array<{ status: string; agents: string[] }> }>(
        '/api/v1/audit?tool=agent.accept_attestation',
      );
      expect(body.entries.some((e) => e.status === 'ok' && e.agents.includes('live-base'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
