import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardDir, DASHBOARD_CSP } from '../src/routes/ui.js';
import { startTestHub, type TestHub } from './helpers.js';

/** The hub serves the dashboard's built files (web-components/dist) at / and /ui/*, with a strict CSP. */
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.close();
});

describe('dashboard files', () => {
  it('finds the built dashboard beside the hub (npm run build writes it)', () => {
    expect(existsSync(path.join(dashboardDir() ?? '/nonexistent', 'sonde.js'))).toBe(true);
  });

  it('serves the page at / with a CSP that allows only this origin and no framing', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<sonde-app>');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
  });

  it('serves the bundle as JavaScript and nothing outside dist/', async () => {
    const js = await hub.app.inject({ method: 'GET', url: '/ui/sonde.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    for (const url of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/nope.js', '/ui/.tsbuildinfo'])
      expect((await hub.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
  });
});
