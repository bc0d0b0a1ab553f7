/* global document, requestAnimationFrame */
// Dashboard first paint (issue 21): the time from navigation to the first agent row of the fleet screen painted, in
// headless Debian Chromium (playwright-core), against a real hub process whose database holds N enrolled agents
// (written as enrollment leaves them, bench/sim-agent.mjs seedAgents; they are offline: the fleet list is what the
// screen reads and paints). The page is the dashboard the hub serves at `/` (<sonde-app>, the whole bundle), signed in
// with the local admin's session cookie, so the figure covers: HTML, sonde.js, the session check, GET /api/v1/agents
// with N agents, the virtualised list's first render and the paint after it. Each load is cold (a new browser context:
// no cache) and timed in the page itself: the first animation frame in which a row exists is recorded, then one more
// frame (the paint of that frame has happened when the next one starts).
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { summarize } from './lib.mjs';
import { keyPool, seedAgents } from './sim-agent.mjs';
import { startHub } from './stack.mjs';

const CHROMIUM = process.env.SONDE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];

// Runs in the page before any of its scripts: watches every frame for the first fleet row, inside the shadow roots.
const WATCH = () => {
  const find = () => {
    const app = document.querySelector('sonde-app');
    const fleet = app?.shadowRoot?.querySelector('sonde-fleet');
    return fleet?.shadowRoot?.querySelector('[part=row]') ?? null;
  };
  const frame = () => {
    if (!find()) {
      requestAnimationFrame(frame);
      return;
    }
    const rendered = performance.now();
    requestAnimationFrame(() => {
      const fleet = document.querySelector('sonde-app')?.shadowRoot?.querySelector('sonde-fleet');
      globalThis.__sondePaint = {
        rendered,
        painted: performance.now(),
        rows: fleet?.shadowRoot?.querySelectorAll('[part=row]').length ?? 0,
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      };
    });
  };
  requestAnimationFrame(frame);
};

export const haveChromium = () => existsSync(CHROMIUM);

/**
 * `agents` enrolled agents, `loads` cold page loads. Returns the per-load figures (ms from navigation start) and
 * their summaries, the rows in the DOM (the list is virtualised) and the size of the agent list the page read.
 */
export async function firstPaint({ agents = 1000, loads = 5 } = {}) {
  const secret = (await import('node:crypto')).randomBytes(32).toString('base64');
  const first = await startHub({ env: { SONDE_LOG_LEVEL: 'error', SONDE_SECRET: secret } });
  const env = first.env;
  await first.stop({ keep: true });
  // Seeded with the hub stopped, so the fleet it loads at start holds them all.
  await seedAgents(env.SONDE_DB_PATH, agents, await keyPool(4), 'host');
  const hub = await startHub({ env, dataDir: first.dataDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const samples = { painted: [], rendered: [], fcp: [] };
  let rows = 0;
  let listBytes = 0;
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const login = await context.request.post(`${hub.url}/api/v1/auth/login`, {
          data: { user: env.SONDE_ADMIN_USER, password: env.SONDE_ADMIN_PASSWORD },
        });
        if (!login.ok()) throw new Error(`login answered ${login.status()}: ${await login.text()}`);
        const page = await context.newPage();
        await page.addInitScript(WATCH);
        page.on('response', (response) => {
          if (new URL(response.url()).pathname === '/api/v1/agents')
            void response.body().then(
              (body) => (listBytes = body.length),
              () => undefined,
            );
        });
        await page.goto(`${hub.url}/`);
        await page.waitForFunction(() => globalThis.__sondePaint !== undefined, undefined, { timeout: 60_000, polling: 50 });
        const result = await page.evaluate(() => globalThis.__sondePaint);
        samples.painted.push(result.painted);
        samples.rendered.push(result.rendered);
        if (result.fcp !== null) samples.fcp.push(result.fcp);
        rows = result.rows;
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await hub.stop();
  }
  return {
    agents,
    loads,
    rows,
    listBytes,
    painted: summarize([...samples.painted].sort((a, b) => a - b)),
    fcp: samples.fcp.length ? summarize([...samples.fcp].sort((a, b) => a - b)) : null,
    samples,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = (process.env.SONDE_BENCH_PAINT_AGENTS ?? '100,1000').split(',').map(Number);
  for (const agents of counts) {
    const result = await firstPaint({ agents, loads: Number(process.env.SONDE_BENCH_PAINT_LOADS ?? 5) });
    console.log(JSON.stringify({ ...result, samples: undefined, each: result.samples.painted.map(Math.round) }));
  }
}
