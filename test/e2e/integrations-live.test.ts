import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCopy, publisher, writeTrustStore } from '../../hub/test/integrations/support.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The integrations screen follows the hub's event stream, in headless
 * Chromium against a real hub process: an integration pack installed on the
 * hub appears pending with its permission diff, its approval by another admin
 * (REST, not this page) turns it active, and an instance added and tested
 * elsewhere shows with its status — all in an open page that never reloads
 * and never asks for the pack list again after its first read.
 */
let stack: Stack;
let front: { url: string; close(): Promise<void> };
let chromium: { browser: Browser; close(): Promise<void> };
let page: Page;
let dir: string;
const packReads: string[] = [];
const key = publisher('e2e-integrations');

async function shoot(name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: screenshotPath(`${name}-${scheme}`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const shadowText = (selector: string) => page.locator(selector).evaluate((el) => el.textContent ?? '');

describe.skipIf(!haveChromium())('integrations screen live from the event stream', () => {
  beforeAll(async () => {
    buildUi();
    dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-integrations-'));
    const trustFile = path.join(dir, 'trust.json');
    writeTrustStore(trustFile, [key]);
    stack = await startStack({
      packs: ['system'],
      agentName: 'int-live',
      hubEnv: { SONDE_TRUST_FILE: trustFile, SONDE_PACKS_DIR: path.join(dir, 'packs') },
    });
    front = await startUiFront(stack.hub.url, {
      '/integrations.html': `<!doctype html><html><head><link rel="stylesheet" href="/ui/page.css"><script type="module" src="/ui/sonde.js"></script></head>
        <body><sonde-integrations token="${stack.adminKey}"></sonde-integrations></body></html>`,
    });
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/integrations/packs' && request.method() === 'GET') packReads.push(request.url());
    });
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await front?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a pack installed on the hub as pending, then active once another admin approves it', { timeout: 90_000 }, async () => {
    await page.goto(`${front.url}/integrations.html`);
    await page.locator('sonde-integrations h3', { hasText: 'Instances' }).waitFor();
    expect(await page.locator('sonde-integrations tr[data-pack=http]').count()).toBe(0);

    const installed = await stack.rest<{ outcome: string }>('/api/v1/integrations/packs', {
      method: 'POST',
      body: JSON.stringify({ path: await packCopy('http', dir, { key }) }),
    });
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    expect(installed.body.outcome).toBe('pending');
    const row = page.locator('sonde-integrations tr[data-pack=http]');
    await row.locator('button', { hasText: 'Approve' }).waitFor();
    expect(await shadowText('sonde-integrations tr[data-pack=http]')).toMatch(/pending/);
    await shoot('integrations-live-pending');

    const other = await stack.createKey(['--name', 'other-admin', '--role', 'admin']);
    const approved = await stack.rest('/api/v1/integrations/packs/http/approve', { method: 'POST', body: '{}', key: other });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await expect.poll(() => shadowText('sonde-integrations tr[data-pack=http]'), { timeout: 15_000 }).toMatch(/0\.1\.0\s*active/);
    expect(await row.locator('button', { hasText: 'Approve' }).count()).toBe(0);
    await shoot('integrations-live-approved');
    // One read when the page opened; everything after came through the stream.
    expect(packReads).toHaveLength(1);
  });

  it('shows an instance added and tested elsewhere, with its connection status', { timeout: 60_000 }, async () => {
    const created = await stack.rest<{ id: string }>('/api/v1/integrations/instances', {
      method: 'POST',
      // Nothing listens there: Test Connection reports an error, which the page shows.
      body: JSON.stringify({ name: 'svc-live', pack: 'http', endpoint: 'http://127.0.0.1:9', credentials: { bearerToken: 'x' } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const status = page.locator('sonde-integrations tr[data-instance=svc-live] [data-status]');
    await expect.poll(() => status.getAttribute('data-status').catch(() => null), { timeout: 15_000 }).toBe('untested');
    await stack.rest(`/api/v1/integrations/instances/${created.body.id}/test`, { method: 'POST', body: '{}' });
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000 }).toBe('error');
    expect(packReads).toHaveLength(1);
  });
});
