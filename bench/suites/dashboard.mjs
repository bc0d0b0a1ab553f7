// Dashboard bundle size (issue 21: sonde.js ≤ 40 KB gzip): read from the sizes the
// web-components build writes (dist/size.json, gzip level 9) after `npm run build`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { firstPaint, haveChromium } from '../dashboard-paint.mjs';
import { fanOut } from '../dashboard-stream.mjs';
import { row } from '../lib.mjs';

const SIZES = path.resolve(import.meta.dirname, '../../web-components/dist/size.json');

export async function run({ smoke = false } = {}) {
  if (!existsSync(SIZES)) throw new Error('web-components/dist/size.json missing: run npm run build first');
  const sizes = JSON.parse(readFileSync(SIZES, 'utf8'));
  const kb = (bytes) => Math.round((bytes / 1024) * 10) / 10;
  const rows = [row('sonde.js (every element + Lit), gzip', kb(sizes.bundle.gzip), 'KB', '≤ 40', sizes.bundle.gzip <= sizes.budgetGzip)];
  for (const name of ['sonde-health-badge', 'sonde-fleet']) {
    if (sizes.elements[name] !== undefined) rows.push(row(`${name} alone (with its Lit chunks), gzip`, kb(sizes.elements[name]), 'KB'));
  }
  // Fan-out of the live event stream: every agent changes state at once while N dashboards are open.
  const result = await fanOut(smoke ? { agents: 100, dashboards: 5 } : { agents: 1000, dashboards: 50 });
  const label = `${result.agents} agents change, ${result.dashboards} open dashboards`;
  rows.push(row(`event stream: ${label}: diff + serialise + write`, Math.round(result.publishMs * 10) / 10, 'ms'));
  rows.push(
    row(
      `event stream: ${label}: last dashboard has every event`,
      Math.round(result.deliveredMs),
      'ms',
      '< 5000',
      result.deliveredMs < 5000,
    ),
  );
  rows.push(row(`event stream: ${label}: CPU (hub and readers)`, Math.round(result.cpuMs), 'ms'));
  // First paint of the fleet screen in headless Chromium, against a real hub holding N agents (cold loads).
  if (!haveChromium()) {
    rows.push(row('fleet first paint: skipped (no Chromium at /usr/bin/chromium or SONDE_CHROMIUM)', 0, ''));
    return rows;
  }
  const paint = await firstPaint(smoke ? { agents: 20, loads: 1 } : { agents: 1000, loads: 5 });
  const paintLabel = `fleet first paint, ${paint.agents} agents, ${paint.loads} cold loads`;
  rows.push(row(`${paintLabel}: first row painted, p50`, Math.round(paint.painted.p50), 'ms'));
  rows.push(row(`${paintLabel}: first row painted, max`, Math.round(paint.painted.max), 'ms'));
  if (paint.fcp) rows.push(row(`${paintLabel}: first contentful paint, p50`, Math.round(paint.fcp.p50), 'ms'));
  rows.push(row(`${paintLabel}: rows in the DOM (virtualised)`, paint.rows, 'rows', '< 40', paint.rows < 40));
  rows.push(row(`${paintLabel}: agent list read (GET /api/v1/agents)`, Math.round(paint.listBytes / 1024), 'KB'));
  return rows;
}
