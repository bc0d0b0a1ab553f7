// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { agentView, hubError, systemPack } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondePacks } from './packs.component.js';

customElements.define('test-packs', class extends SondePacks {});
let close: (() => Promise<void>) | undefined;
beforeEach(() => {
  window.confirm = () => true;
});
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const digest = 'b'.repeat(64);
const noRevocations = { body: { list: null, key: { keyId: 'hubkey' } } };

describe('<sonde-packs>', () => {
  it('groups pack versions by agent and approves a pending update pinned to its digest', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents': {
        body: [
          agentView('web-1', { packs: [systemPack()] }),
          agentView('web-2', { packs: [systemPack()] }),
          agentView('db-1', {
            packs: [
              systemPack({ version: '0.0.9', pending: { version: '0.1.0', permissionsSha256: digest, added: ['file: /proc/net/**'] } }),
            ],
          }),
        ],
      },
      'GET /api/v1/revocations': noRevocations,
      'POST /api/v1/agents/id-db-1/packs/system/approve': { body: { ok: true, agent: 'db-1', pack: 'system', version: '0.1.0' } },
    });
    close = hub.close;
    const el = await mount<SondePacks>(`<test-packs hub="${hub.url}"></test-packs>`);
    await until(() => q(el, 'tr[data-version="0.1.0"]') !== null);
    expect(q(el, 'tr[data-pack=system][data-version="0.1.0"]')!.textContent).toMatch(/2 ·\s*web-1\s*web-2/);
    expect(q(el, 'tr[data-pending="db-1/system"]')!.textContent).toContain('file: /proc/net/**');
    q<HTMLButtonElement>(el, 'button[aria-label="Approve system 0.1.0 on db-1"]')!.click();
    await until(() => hub.calls.some((c) => c.method === 'POST'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ version: '0.1.0', permissionsSha256: digest });
  });

  it('shows the revocation list and revokes a pack version range', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents': { body: [] },
      'GET /api/v1/revocations': {
        body: {
          list: { serial: 3, keyId: 'hubkey', keys: [], packs: [{ pack: 'nginx', versions: '<0.2.0', reason: 'CVE' }] },
          key: { keyId: 'hubkey' },
        },
      },
      'POST /api/v1/revocations': hubError(400, 'SONDE_ERR_VALIDATION', 'versions: a semver version or range'),
    });
    close = hub.close;
    const el = await mount<SondePacks>(`<test-packs hub="${hub.url}"></test-packs>`);
    await until(() => q(el, 'tr[data-revoked=nginx]') !== null);
    expect(shadowText(el)).toContain('List serial 3');
    expect(shadowText(el)).toContain('No agent reports a pack yet');
    q<HTMLInputElement>(el, 'input[name=pack]')!.value = 'redis';
    q<HTMLInputElement>(el, 'input[name=versions]')!.value = 'not-a-range';
    q<HTMLFormElement>(el, 'form')!.requestSubmit();
    await until(() => shadowText(el).includes('versions: a semver version or range'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ packs: [{ pack: 'redis', versions: 'not-a-range' }] });
  });

  it('shows the hub error', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents': hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'Log in again.'),
      'GET /api/v1/revocations': hubError(401, 'SONDE_ERR_UNAUTHORIZED', 'Log in again.'),
    });
    close = hub.close;
    const el = await mount<SondePacks>(`<test-packs hub="${hub.url}"></test-packs>`);
    await until(() => shadowText(el).includes('Could not load the fleet: Log in again.'));
  });
});
