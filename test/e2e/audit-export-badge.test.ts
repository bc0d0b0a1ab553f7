import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../hub/test/helpers.js';
import { runCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';

/**
 * Issue 25, "an alert (log line, metric, dashboard badge) when a sink falls behind or fails": a real hub process
 * whose audit webhook points at a loopback port where nothing listens, and the dashboard in headless Chromium. The
 * top bar shows a badge on every page, the audit page says which sink fails and why; once a receiver listens on that
 * port the backlog goes out and both clear, without a reload. Light and dark screenshots in .test-results/screenshots/.
 */
let hub: RunningHub;
let front: { url: string; close(): Promise<void> };
let chromium: { browser: Browser; close(): Promise<void> };
let page: Page;
let receiver: Server | undefined;
let port: number;
const { dir, cleanup } = tempDir('sonde-e2e-export-');
const received: number[] = [];

async function shoot(name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: screenshotPath(`${name}-${scheme}`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe.skipIf(!haveChromium())('the dashboard flags a failing audit export sink (real hub, Chromium)', () => {
  beforeAll(async () => {
    buildUi();
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const env = {
      SONDE_SECRET: randomBytes(32).toString('base64'),
      SONDE_DB_PATH: path.join(dir, 'sonde.db'),
      SONDE_ADMIN_USER: 'admin',
      SONDE_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
      SONDE_PORT: '0',
      SONDE_LOG_LEVEL: 'info',
      SONDE_AUDIT_WEBHOOK_URL: `http://127.0.0.1:${port}/audit`,
      SONDE_AUDIT_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    };
    hub = await startHubProcess(env);
    const created = await runCli(['keys', 'create', '--name', 'root', '--role', 'admin', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const key = (JSON.parse(created.stdout) as { rawKey: string }).rawKey;
    // An audited action over REST, so the export has entries to deliver whatever the CLI wrote.
    const member = await fetch(`${hub.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'someone', role: 'member' }),
    });
    expect(member.status).toBe(201);
    // The page reads the export status once at sign-in and then every 30 s while nothing is wrong: load it only once
    // the hub itself reports the sink failing, or the first read can come before the first delivery has failed.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await fetch(`${hub.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await status.json()) as { sinks?: { failing?: boolean }[] };
      if (body.sinks?.some((sink) => sink.failing)) break;
      if (Date.now() > deadline) throw new Error(`the webhook sink never reported failing: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    front = await startUiFront(hub.url, {
      '/app.html': `<!doctype html><html><head><link rel="stylesheet" href="/ui/page.css"><script type="module" src="/ui/sonde.js"></script></head>
        <body><sonde-app token="${key}"></sonde-app></body></html>`,
    });
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await front?.close();
    receiver?.closeAllConnections();
    if (receiver) await new Promise((resolve) => receiver!.close(resolve));
    await hub?.stop();
    cleanup();
  });

  it(
    'shows a badge on every page and the reason on the audit page; both clear once the sink takes the backlog',
    { timeout: 120_000 },
    async () => {
      await page.goto(`${front.url}/app.html#/fleet`);
      const badge = page.locator('sonde-app [part=export-alert]');
      await badge.waitFor();
      expect(await badge.getAttribute('data-export')).toBe('failing');
      expect(await badge.textContent()).toContain('Audit export: webhook failing');
      expect(await badge.getAttribute('title')).toContain(`could not deliver to 127.0.0.1:${port}: ECONNREFUSED`);
      // The hub logs it too (the log line of the same alert).
      expect(hub.output()).toMatch(/audit export failing; retrying/);
      await shoot('audit-export-failing-badge');

      await badge.click();
      const sink = page.locator('sonde-audit-log li[data-sink=webhook]');
      await expect.poll(() => sink.getAttribute('data-state')).toBe('failing');
      expect(await sink.textContent()).toMatch(/Export to webhook failing: could not deliver to 127\.0\.0\.1:\d+: ECONNREFUSED/);
      await shoot('audit-export-failing-audit-page');

      // The collector comes up on the configured port: the backlog goes out (retries back off, so allow a minute).
      receiver = createServer((req, res) => {
        let raw = '';
        req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        req.on('end', () => {
          for (const entry of (JSON.parse(raw) as { entries: { seq: number }[] }).entries) received.push(entry.seq);
          res.writeHead(204).end();
        });
      });
      receiver.listen(port, '127.0.0.1');
      await once(receiver, 'listening');
      await expect.poll(() => sink.getAttribute('data-state'), { timeout: 90_000, interval: 500 }).toBe('ok');
      await expect.poll(() => badge.count(), { timeout: 15_000 }).toBe(0);
      expect(received.length).toBeGreaterThanOrEqual(2);
      expect(await sink.textContent()).toMatch(/Export to webhook up to date/);
      await shoot('audit-export-recovered');
    },
  );
});
