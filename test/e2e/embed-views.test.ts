import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHome, removeDir, runCli } from '../../agent/test/support/cli.js';
import { buildUi, haveChromium, launchChromium, screenshotPath } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The agent page and the trends as embed views (`/embed/agent?agent=…`,
 * `/embed/trends`) in headless Chromium, framed by a portal page on another
 * origin against a real hub process and a real agent. The embed token (sent
 * by postMessage, never in the URL) decides everything: the agent page is
 * read-only (no approve, reject, accept or remove), shows only an agent in the
 * token's scope, and its recent calls and the trends come from
 * `/api/v1/embed/probe-calls`, which answers probe calls on in-scope agents
 * only, without caller, parameters or details. An origin the hub does not
 * list cannot frame either view.
 */
let stack: Stack;
let chromium: { browser: Browser; close(): Promise<void> };
let portal: Portal;
let stranger: Portal;
let token: string;

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

/** A portal page framing one hub view; the token goes to the frame by postMessage once it says it is ready. */
function framing(hub: string, view: string, embedToken: string): string {
  return `<!doctype html><html><body><h1>Intranet</h1>
    <iframe id="sonde" src="${hub}/embed/${view}" style="width:1200px;height:760px;border:0"></iframe>
    <script>
      addEventListener('message', (event) => {
        if (event.origin !== ${JSON.stringify(hub)} || event.data?.type !== 'sonde-embed-ready') return;
        document.getElementById('sonde').contentWindow.postMessage({ type: 'sonde-embed-token', token: ${JSON.stringify(embedToken)} }, ${JSON.stringify(hub)});
      });
    </script></body></html>`;
}

async function mint(views: string[]): Promise<string> {
  const { status, body } = await stack.rest<{ token: string }>('/api/v1/embed-tokens', {
    method: 'POST',
    body: JSON.stringify({ views, agents: ['embed-*'], origins: [portal.url], ttlSeconds: 600 }),
  });
  expect(status).toBe(201);
  return body.token;
}

describe.skipIf(!haveChromium())('agent and trends embed views, framed by a portal on another origin', () => {
  beforeAll(async () => {
    buildUi();
    portal = await startPortal();
    stranger = await startPortal();
    stack = await startStack({ packs: ['system'], agentName: 'embed-agent', hubEnv: { SONDE_EMBED_ORIGINS: portal.url } });
    await stack.waitForAgentOnline();
    // An agent outside the token's globs, with a probe call of its own in the audit log (it is not connected).
    const { body: outside } = await stack.rest<{ token: string }>('/api/v1/enrollment-tokens', { method: 'POST', body: '{}' });
    const home = agentHome(stack.user, 'sonde-embed-outside-');
    try {
      const enrolled = await runCli(['enroll', '--hub', stack.hub.url, '--token', outside.token, '--name', 'other-x', '--json'], {
        home,
        user: stack.user,
      });
      expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    } finally {
      removeDir(home);
    }
    for (const [agent, probe] of [
      ['embed-agent', 'system.cpu.usage'],
      ['embed-agent', 'system.memory.usage'],
      ['other-x', 'system.disk.usage'],
    ]) {
      await stack.rest('/api/v1/probes', { method: 'POST', body: JSON.stringify({ agent, probe, params: {} }) });
    }
    token = await mint(['agent', 'trends']);
    chromium = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await portal?.close();
    await stranger?.close();
    await stack?.stop();
  });

  it('shows the agent page read-only, with its recent probe calls, for an agent in scope', { timeout: 60_000 }, async () => {
    const hub = stack.hub.url;
    portal.pages.set('/agent.html', framing(hub, 'agent?agent=embed-agent', token));
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${portal.url}/agent.html`);
    const frame = page.frameLocator('#sonde');
    // The element's text is in its shadow root.
    const shown = () => frame.locator('sonde-agent').evaluate((el) => el.shadowRoot?.textContent ?? '');
    await frame.locator('sonde-agent [part=packs] tr[data-pack=system]').waitFor();
    await expect.poll(shown).toContain('system.memory.usage');
    // Read-only: nothing to press.
    expect(await frame.locator('sonde-agent button').count()).toBe(0);
    const text = await shown();
    expect(text).toContain('Recent probe calls');
    expect(text).not.toContain('other-x');
    expect(text).not.toContain('Certificate');
    await page.screenshot({ path: screenshotPath('embed-agent-view') });

    // Another agent, named in the URL by whoever wrote the page: the token does not reach it.
    portal.pages.set('/other.html', framing(hub, 'agent?agent=other-x', token));
    await page.goto(`${portal.url}/other.html`);
    await expect.poll(shown).toMatch(/Could not load other-x/);
    await page.close();
  });

  it('shows the trends of the agents in scope only', { timeout: 60_000 }, async () => {
    portal.pages.set('/trends.html', framing(stack.hub.url, 'trends', token));
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${portal.url}/trends.html`);
    const frame = page.frameLocator('#sonde');
    await frame.locator('sonde-trends [part=table] tr[data-key="system.cpu.usage"]').waitFor();
    await frame.locator('sonde-trends [part=table] tr[data-key="system.memory.usage"]').waitFor();
    expect(await frame.locator('sonde-trends [part=table] tr[data-key="system.disk.usage"]').count()).toBe(0);
    expect(await frame.locator('sonde-trends [part=chart]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('embed-trends-view') });
    await page.close();
  });

  it('answers the probe calls a token may read, and nothing for a fleet-only token, the audit log or a write', async () => {
    const hub = stack.hub.url;
    const fleetOnly = await mint(['fleet']);
    portal.pages.set('/blank.html', '<!doctype html><html><body></body></html>');
    const page = await chromium.browser.newPage();
    await page.goto(`${portal.url}/blank.html`);
    const seen = await page.evaluate(
      async ({ hub, token, fleetOnly }) => {
        const get = async (url: string, bearer: string, init: RequestInit = {}) => {
          try {
            const response = await fetch(`${hub}${url}`, { ...init, headers: { authorization: `Bearer ${bearer}` } });
            return { status: response.status, body: response.status === 200 ? await response.json() : null };
          } catch {
            return { status: 'blocked', body: null };
          }
        };
        return {
          calls: await get('/api/v1/embed/probe-calls?limit=100', token),
          fleetOnly: (await get('/api/v1/embed/probe-calls', fleetOnly)).status,
          audit: (await get('/api/v1/audit', token)).status,
          reject: (await get('/api/v1/agents/embed-agent/packs/system/reject', token, { method: 'POST' })).status,
        };
      },
      { hub, token, fleetOnly },
    );
    // The out-of-scope call is in the audit log (an admin sees it): the embed route is what leaves it out.
    const { body: audit } = await stack.rest<{ entries: Array<{ probe?: string | null }> }>('/api/v1/audit?agent=other-x');
    expect(audit.entries.map((entry) => entry.probe)).toContain('system.disk.usage');
    const calls = seen.calls.body as { entries: Array<Record<string, unknown>> };
    expect(seen.calls.status).toBe(200);
    expect(calls.entries.map((entry) => entry.probe).sort()).toEqual(['system.cpu.usage', 'system.memory.usage']);
    for (const entry of calls.entries) {
      expect(entry.agents).toEqual(['embed-agent']);
      expect(Object.keys(entry).sort()).toEqual(expect.arrayContaining(['action', 'agents', 'at', 'probe', 'seq', 'status']));
      expect(entry).not.toHaveProperty('actor');
      expect(entry).not.toHaveProperty('params');
    }
    expect(seen.fleetOnly).toBe(403);
    expect(seen.audit).toBe('blocked');
    expect(seen.reject).toBe('blocked');
    // The frame page needs its agent named, and only by a name.
    expect((await fetch(`${hub}/embed/agent`)).status).toBe(400);
    expect((await fetch(`${hub}/embed/agent?agent=${encodeURIComponent('<script>')}`)).status).toBe(400);
    await page.close();
  });

  it('refuses both views to a page on an origin the hub does not list', { timeout: 60_000 }, async () => {
    for (const view of ['agent?agent=embed-agent', 'trends']) {
      stranger.pages.set('/frame.html', framing(stack.hub.url, view, token));
      const page = await chromium.browser.newPage();
      const refused = new Promise<void>((resolve) =>
        page.on('console', (message) => {
          if (message.text().includes('frame-ancestors')) resolve();
        }),
      );
      await page.goto(`${stranger.url}/frame.html`);
      await refused;
      expect(await page.frameLocator('#sonde').locator('sonde-agent, sonde-trends').count()).toBe(0);
      await page.close();
    }
  });
});
