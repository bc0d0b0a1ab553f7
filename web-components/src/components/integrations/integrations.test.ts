// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { hubError } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeIntegrations } from './integrations.component.js';

customElements.define('test-integrations', class extends SondeIntegrations {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);

const proxmox = {
  name: 'proxmox',
  packageName: '@sonde/pack-proxmox',
  state: 'active',
  activeVersion: '0.1.0',
  description: 'Proxmox VE',
  probes: ['proxmox.nodes'],
  permissions: {
    credentials: [
      { name: 'tokenId', description: 'API token id' },
      { name: 'tokenSecret', description: 'API token secret' },
    ],
  },
  pending: {
    version: '0.2.0',
    diff: {
      added: [{ kind: 'network', key: 'x', description: 'HTTPS to the instance endpoint, path /api2/json/cluster' }],
      removed: [],
      widened: true,
    },
  },
  refused: null,
  instances: ['pve-lab'],
};
const instance = (status: string, lastError: string | null = null) => ({
  id: 'i1',
  name: 'pve-lab',
  pack: 'proxmox',
  endpoint: 'https://pve.example.com:8006',
  credentialNames: ['tokenId', 'tokenSecret'],
  status,
  lastError,
  lastCheckedAt: status === 'untested' ? null : new Date().toISOString(),
  createdAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
});

describe('<sonde-integrations>', () => {
  it('shows packs with the pending diff, instances with status, and approves the pending version', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/integrations/packs': { body: [proxmox] },
      'GET /api/v1/integrations/instances': { body: [instance('error', 'HTTP 401 from /api2/json/version')] },
      'POST /api/v1/integrations/packs/proxmox/approve': { body: { pack: proxmox, diff: proxmox.pending.diff } },
    });
    close = hub.close;
    const el = await mount<SondeIntegrations>(`<test-integrations hub="${hub.url}"></test-integrations>`);
    await until(() => q(el, 'tr[data-instance=pve-lab]') !== null);
    expect(q(el, 'tr[data-pack=proxmox]')!.textContent).toContain('HTTPS to the instance endpoint');
    expect(q(el, 'tr[data-instance=pve-lab] [data-status]')!.textContent).toBe('Error');
    expect(q(el, 'tr[data-instance=pve-lab]')!.textContent).toContain('HTTP 401 from /api2/json/version');
    q<HTMLButtonElement>(el, 'button[aria-label="Approve proxmox 0.2.0"]')!.click();
    await until(() => hub.calls.some((c) => c.method === 'POST'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ version: '0.2.0' });
  });

  it('adds an instance with write-only credentials fields named by the pack, and tests the connection', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/integrations/packs': { body: [proxmox] },
      'GET /api/v1/integrations/instances': { body: [instance('untested')] },
      'POST /api/v1/integrations/instances': { status: 201, body: instance('untested') },
      'POST /api/v1/integrations/instances/i1/test': { body: { ...instance('connected'), probe: 'proxmox.version', durationMs: 5 } },
    });
    close = hub.close;
    const el = await mount<SondeIntegrations>(`<test-integrations hub="${hub.url}"></test-integrations>`);
    await until(() => q(el, 'form[part=create-form]') !== null);
    const select = q<HTMLSelectElement>(el, 'select[name=pack]')!;
    select.value = 'proxmox';
    select.dispatchEvent(new Event('change'));
    await until(() => q(el, 'input[name="credential:tokenSecret"]') !== null);
    expect(q<HTMLInputElement>(el, 'input[name="credential:tokenSecret"]')!.type).toBe('password');
    q<HTMLInputElement>(el, 'input[name=name]')!.value = 'pve-2';
    q<HTMLInputElement>(el, 'input[name=endpoint]')!.value = 'https://pve2.example.com:8006';
    q<HTMLInputElement>(el, 'input[name="credential:tokenId"]')!.value = 'root@pam!sonde';
    q<HTMLInputElement>(el, 'input[name="credential:tokenSecret"]')!.value = 's3cret';
    q<HTMLFormElement>(el, 'form[part=create-form]')!.requestSubmit();
    await until(() => hub.calls.some((c) => c.path === '/api/v1/integrations/instances' && c.method === 'POST'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'pve-2',
      pack: 'proxmox',
      endpoint: 'https://pve2.example.com:8006',
      credentials: { tokenId: 'root@pam!sonde', tokenSecret: 's3cret' },
    });
    q<HTMLButtonElement>(el, 'button[aria-label="Test connection of pve-lab"]')!.click();
    await until(() => hub.calls.some((c) => c.path === '/api/v1/integrations/instances/i1/test'));
    expect(shadowText(el)).not.toContain('s3cret');
  });

  it('shows empty and error states', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/integrations/packs': { body: [] },
      'GET /api/v1/integrations/instances': { body: [] },
    });
    close = hub.close;
    const el = await mount<SondeIntegrations>(`<test-integrations hub="${hub.url}"></test-integrations>`);
    await until(() => shadowText(el).includes('No integration packs installed'));
    await hub.close();
    const failing = await startFixtureHub({
      'GET /api/v1/integrations/packs': hubError(503, 'SONDE_ERR_NOT_READY', 'Integrations are disabled.'),
      'GET /api/v1/integrations/instances': hubError(503, 'SONDE_ERR_NOT_READY', 'Integrations are disabled.'),
    });
    close = failing.close;
    el.hub = failing.url;
    await until(() => shadowText(el).includes('Integrations are disabled.'));
  });
});
