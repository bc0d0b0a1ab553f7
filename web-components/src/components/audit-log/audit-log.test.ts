// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeAuditLog } from './audit-log.component.js';

customElements.define('test-audit-log', class extends SondeAuditLog {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const entry = (seq: number, action = 'rest.probe') => ({
  seq,
  at: '2026-12-07T04:00:00.000Z',
  hash: 'h',
  action,
  actor: { kind: 'user', id: 'u1', name: 'admin' },
  agents: ['web-1'],
  status: 'ok',
});
const verified = (ok: boolean, full = false) => ({
  body: {
    ok,
    checked: 10,
    total: 10,
    fromSeq: 1,
    lastSeq: 10,
    full,
    durationMs: 3,
    ...(ok ? {} : { firstBrokenSeq: 7, reason: 'hash mismatch' }),
  },
});

describe('<sonde-audit-log>', () => {
  it('lists entries, pages back by sequence and shows an intact chain', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': ({ path }) =>
        path.includes('before=51')
          ? { body: { entries: [entry(50)], nextBefore: null } }
          : { body: { entries: Array.from({ length: 50 }, (_, i) => entry(100 - i)), nextBefore: 51 } },
      'GET /api/v1/audit/verify': verified(true),
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}"></test-audit-log>`);
    await until(() => el.shadowRoot!.querySelectorAll('tr[data-seq]').length === 50);
    await until(() => q(el, '[data-chain=ok]') !== null);
    Array.from(el.shadowRoot!.querySelectorAll('button'))
      .find((b) => b.textContent?.includes('Older entries'))!
      .click();
    await until(() => el.shadowRoot!.querySelectorAll('tr[data-seq]').length === 51);
    expect(q(el, 'tr[data-seq="50"]')).not.toBeNull();
  });

  it('sends the filters as query parameters and says when nothing matches', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
      'GET /api/v1/audit/verify': verified(true),
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}" agent="web-1"></test-audit-log>`);
    await until(() => shadowText(el).includes('No entries match'));
    q<HTMLInputElement>(el, 'input[name=tool]')!.value = 'api_key.create';
    q<HTMLInputElement>(el, 'input[name=from]')!.value = '2026-12-01';
    q<HTMLFormElement>(el, 'form[part=filters]')!.requestSubmit();
    await until(() => hub.calls.some((c) => c.path.includes('tool=')));
    const last = hub.calls.filter((c) => c.path.startsWith('/api/v1/audit?')).pop()!;
    expect(new URL(last.path, 'http://x').searchParams.toString()).toBe('limit=50&agent=web-1&tool=api_key.create&from=2026-12-01');
  });

  it('shows a broken chain with the first broken entry, and a full verify on request', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': { body: { entries: [entry(1)], nextBefore: null } },
      'GET /api/v1/audit/verify': ({ path }) => verified(false, path.includes('full=true')),
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}"></test-audit-log>`);
    await until(() => q(el, '[data-chain=broken]') !== null);
    expect(q(el, '[data-chain=broken]')!.textContent).toContain('entry 7: hash mismatch');
    Array.from(el.shadowRoot!.querySelectorAll('button'))
      .find((b) => b.textContent?.includes('Full verify'))!
      .click();
    await until(() => hub.calls.some((c) => c.path === '/api/v1/audit/verify?full=true'));
  });

  it('shows each audit export sink: the failing one with its reason, the behind one with its lag, the others up to date', async () => {
    const sink = (name: string, extra: object) => ({
      sink: name,
      cursor: 40,
      lagEntries: 0,
      lagSeconds: 0,
      behind: false,
      failing: false,
      lastError: null,
      delivered: 40,
      ...extra,
    });
    const hub = await startFixtureHub({
      'GET /api/v1/audit': { body: { entries: [entry(1)], nextBefore: null } },
      'GET /api/v1/audit/verify': verified(true),
      'GET /api/v1/audit/export': {
        body: {
          sinks: [
            sink('syslog', {}),
            sink('webhook', { failing: true, lagEntries: 12, lagSeconds: 40, lastError: 'could not deliver to siem:443: ECONNREFUSED' }),
            sink('otlp', { behind: true, lagEntries: 900, lagSeconds: 400 }),
          ],
        },
      },
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}"></test-audit-log>`);
    await until(() => q(el, 'li[data-sink=otlp]') !== null);
    const text = (name: string): string => q(el, `li[data-sink=${name}]`)!.textContent.replace(/\s+/g, ' ').trim();
    expect(q(el, 'li[data-sink=webhook]')!.getAttribute('data-state')).toBe('failing');
    expect(text('webhook')).toBe(
      '✘ Export to webhook failing: could not deliver to siem:443: ECONNREFUSED (12 entries waiting, the oldest 40 s old; retrying)',
    );
    expect(text('otlp')).toBe('⚠ Export to otlp behind: 900 entries waiting, the oldest 400 s old');
    expect(text('syslog')).toBe('✔ Export to syslog up to date (through entry 40)');
  });

  it('shows no export list when the hub has no sink or refuses the status (a scoped key)', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': { body: { entries: [entry(1)], nextBefore: null } },
      'GET /api/v1/audit/verify': verified(true),
      'GET /api/v1/audit/export': hubError(403, 'SONDE_ERR_FORBIDDEN', 'needs an unscoped admin key'),
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}"></test-audit-log>`);
    await until(() => hub.calls.some((c) => c.path === '/api/v1/audit/export'));
    await until(() => q(el, '[data-chain=ok]') !== null);
    expect(q(el, '[part=export]')).toBeNull();
  });

  it('shows the hub error', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/audit': hubError(403, 'SONDE_ERR_FORBIDDEN', 'Admin role required.'),
      'GET /api/v1/audit/verify': hubError(403, 'SONDE_ERR_FORBIDDEN', 'Admin role required.'),
    });
    close = hub.close;
    const el = await mount<SondeAuditLog>(`<test-audit-log hub="${hub.url}"></test-audit-log>`);
    await until(() => shadowText(el).includes('Could not load the audit log: Admin role required.'));
  });
});
