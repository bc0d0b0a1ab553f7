import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureHub } from '../../web-components/test/fixture-hub.js';
import { agentView } from '../../web-components/test/fixtures.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';

/**
 * <sonde-fleet> with 1,000 agents in real Chromium (real layout and scrolling):
 * the list stays virtualised (a few dozen rows in the DOM, never 1,000) at the
 * top and after scrolling to the end. The agents come from a loopback server
 * answering /api/v1/agents like the hub; time to the first row is printed.
 */
let chromium: { browser: Browser; close(): Promise<void> };
let fixture: Awaited<ReturnType<typeof startFixtureHub>>;
let front: { url: string; close(): Promise<void> };

describe.skipIf(!haveChromium())('fleet with 1,000 agents in Chromium', () => {
  beforeAll(async () => {
    buildUi();
    const agents = Array.from({ length: 1000 }, (_, i) =>
      agentView(`host-${String(i).padStart(4, '0')}`, { status: i % 7 === 0 ? 'offline' : i % 11 === 0 ? 'degraded' : 'online' }),
    );
    fixture = await startFixtureHub({ 'GET /api/v1/agents': { body: agents } });
    front = await startUiFront(fixture.url, {
      '/scale.html': `<!doctype html><html><head><script type="module" src="/ui/sonde.js"></script></head>
        <body><sonde-fleet token="fixture" poll-interval="0"></sonde-fleet></body></html>`,
    });
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await front?.close();
    await fixture?.close();
  });

  it('keeps only the rows in view in the DOM, at the top and at the end', async () => {
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const started = Date.now();
    await page.goto(`${front.url}/scale.html`);
    await page.locator('sonde-fleet [part=row][data-agent=host-0000]').waitFor();
    console.log(`dashboard: first fleet row of 1,000 agents after ${Date.now() - started} ms`);
    expect(await page.locator('sonde-fleet [part=row]').count()).toBeLessThan(40);

    await page.locator('sonde-fleet [part=viewport]').hover();
    await page.mouse.wheel(0, 1000 * 44);
    await page.locator('sonde-fleet [part=row][data-agent=host-0999]').waitFor();
    expect(await page.locator('sonde-fleet [part=row]').count()).toBeLessThan(40);
    expect(await page.locator('sonde-fleet [part=row][data-agent=host-0000]').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('fleet-1000-end') });
    await page.close();
  });
});
