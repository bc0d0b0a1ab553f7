// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { mount, shadowText, until } from '../../../test/dom.js';
import { agentView, hubError, systemPack } from '../../../test/fixtures.js';
import { startFixtureHub } from '../../../test/fixture-hub.js';
import { SondeAgent } from './agent.component.js';

customElements.define('test-agent', class extends SondeAgent {});
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  document.body.innerHTML = '';
  await close?.();
});
const q = <T extends Element>(el: Element, selector: string): T | null => el.shadowRoot!.querySelector<T>(selector);
const digest = 'a'.repeat(64);

function detail(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...agentView('web-1'),
    certSerial: '5453fc0c2c36dc28aa',
    certNotAfter: new Date(Date.now() + 20 * 86_400_000).toISOString(),
    removedAt: null,
    attestationBaseline: { os: 'debian 12' },
    pendingAttestation: null,
    ...overrides,
  };
}

describe('<sonde-agent>', () => {
  it('shows loading, then facts, packs and recent activity', async () => {
    let release!: () => void;
    const hub = await startFixtureHub({
      'GET /api/v1/agents/web-1': { hold: new Promise<void>((r) => (release = r)), body: detail({ packs: [systemPack()] }) },
      'GET /api/v1/audit': {
        body: {
          entries: [
            {
              seq: 3,
              at: '2026-12-07T04:00:00Z',
              hash: 'x',
              action: 'rest.probe',
              actor: { kind: 'user', id: 'u', name: 'admin' },
              status: 'ok',
              probe: 'system.cpu.usage',
            },
          ],
          nextBefore: null,
        },
      },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="web-1" poll-interval="0"></test-agent>`);
    expect(shadowText(el)).toContain('Loading web-1');
    release();
    await until(() => q(el, 'tr[data-pack=system]') !== null);
    expect(shadowText(el)).toContain('Debian GNU/Linux 12');
    // Certificate in its last 30 days is called out.
    expect(shadowText(el)).toMatch(/expires in (19|20) d/);
    await until(() => shadowText(el).includes('system.cpu.usage'));
  });

  it('approves a pending pack naming the version and digest the admin saw', async () => {
    const pending = systemPack({
      state: 'pending',
      pending: { version: '0.2.0', permissionsSha256: digest, added: ['exec: /usr/bin/ss'] },
    });
    const hub = await startFixtureHub({
      'GET /api/v1/agents/web-1': { body: detail({ packs: [pending] }) },
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
      'POST /api/v1/agents/web-1/packs/system/approve': { body: { ok: true, agent: 'web-1', pack: 'system', version: '0.2.0' } },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="web-1" poll-interval="0"></test-agent>`);
    await until(() => q(el, 'button[aria-label="Approve system 0.2.0"]') !== null);
    expect(q(el, 'tr[data-pack=system]')!.textContent).toContain('exec: /usr/bin/ss');
    q<HTMLButtonElement>(el, 'button[aria-label="Approve system 0.2.0"]')!.click();
    await until(() => hub.calls.some((c) => c.method === 'POST'));
    expect(hub.calls.find((c) => c.method === 'POST')!.body).toEqual({ version: '0.2.0', permissionsSha256: digest });
  });

  it('rejects a pending pack naming the version and digest, then shows it rejected', async () => {
    const pending = systemPack({
      state: 'pending',
      pending: { version: '0.2.0', permissionsSha256: digest, added: [] },
    });
    let rejected = false;
    const hub = await startFixtureHub({
      'GET /api/v1/agents/web-1': () => ({
        body: detail({
          packs: [
            rejected ? systemPack({ state: 'disabled', code: 'SONDE_ERR_PACK_REJECTED', reason: '0.2.0 rejected by hub:admin' }) : pending,
          ],
        }),
      }),
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
      'POST /api/v1/agents/web-1/packs/system/reject': () => {
        rejected = true;
        return { body: { ok: true, agent: 'web-1', pack: 'system', version: '0.2.0' } };
      },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="web-1" poll-interval="0"></test-agent>`);
    await until(() => q(el, 'button[aria-label="Reject system 0.2.0"]') !== null);
    q<HTMLButtonElement>(el, 'button[aria-label="Reject system 0.2.0"]')!.click();
    await until(() => hub.calls.some((c) => c.method === 'POST'));
    const post = hub.calls.find((c) => c.method === 'POST')!;
    expect(post.path).toBe('/api/v1/agents/web-1/packs/system/reject');
    expect(post.body).toEqual({ version: '0.2.0', permissionsSha256: digest });
    await until(() => q(el, 'button[aria-label="Reject system 0.2.0"]') === null);
    expect(q(el, 'tr[data-pack=system]')!.textContent).toMatch(/rejected\s+SONDE_ERR_PACK_REJECTED/);
  });

  it('embedded (an embed token): reads the embed routes and offers no action', async () => {
    const pending = systemPack({
      state: 'pending',
      pending: { version: '0.2.0', permissionsSha256: digest, added: ['exec: /usr/bin/ss'] },
    });
    const hub = await startFixtureHub({
      'GET /api/v1/embed/agents/web-1': { body: { ...agentView('web-1'), packs: [pending] } },
      'GET /api/v1/embed/probe-calls': {
        body: {
          entries: [
            { seq: 9, at: '2026-12-07T04:00:00Z', action: 'rest.probe', probe: 'system.cpu.usage', agents: ['web-1'], status: 'ok' },
          ],
          nextBefore: null,
        },
      },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(
      `<test-agent hub="${hub.url}" agent="web-1" token="sonde_embed_x.y" poll-interval="0"></test-agent>`,
    );
    await until(() => shadowText(el).includes('system.cpu.usage'));
    expect(shadowText(el)).toContain('exec: /usr/bin/ss');
    expect(shadowText(el)).toContain('Recent probe calls');
    expect(el.shadowRoot!.querySelectorAll('button').length).toBe(0);
    expect(hub.calls.map((c) => c.path.split('?')[0]).sort()).toEqual(['/api/v1/embed/agents/web-1', '/api/v1/embed/probe-calls']);
  });

  it('accepts a changed attestation and shows a refused action', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents/web-1': {
        body: detail({ status: 'degraded', reasons: ['attestation changed'], pendingAttestation: { os: 'debian 13' } }),
      },
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
      'POST /api/v1/agents/web-1/accept-attestation': hubError(409, 'SONDE_ERR_CONFLICT', 'nothing to accept'),
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="web-1" poll-interval="0"></test-agent>`);
    await until(() => q(el, '[part=attestation]') !== null);
    expect(q(el, '[part=attestation]')!.textContent).toContain('debian 13');
    Array.from(el.shadowRoot!.querySelectorAll('button'))
      .find((b) => b.textContent?.includes('Accept as new baseline'))!
      .click();
    await until(() => shadowText(el).includes('nothing to accept'));
  });

  it('removes the agent after the confirm dialog and emits sonde-agent-removed', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents/web-1': { body: detail() },
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
      'DELETE /api/v1/agents/id-web-1': { status: 204 },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="web-1" poll-interval="0"></test-agent>`);
    await until(() => q(el, '[part=remove]') !== null);
    const removed: unknown[] = [];
    el.addEventListener('sonde-agent-removed', (e) => removed.push(e.detail));
    q<HTMLButtonElement>(el, '[part=remove]')!.click();
    // Nothing is deleted until the dialog's Remove is pressed.
    expect(hub.calls.some((c) => c.method === 'DELETE')).toBe(false);
    Array.from(el.shadowRoot!.querySelectorAll('dialog button'))
      .find((b) => b.textContent?.trim() === 'Remove')!
      .dispatchEvent(new MouseEvent('click', { bubbles: true }));
    await until(() => removed.length === 1);
    expect(removed).toEqual([{ id: 'id-web-1', name: 'web-1' }]);
  });

  it('shows the hub error for an unknown agent', async () => {
    const hub = await startFixtureHub({
      'GET /api/v1/agents/ghost': hubError(404, 'SONDE_ERR_AGENT_NOT_FOUND', 'No agent with id or name "ghost".'),
      'GET /api/v1/audit': { body: { entries: [], nextBefore: null } },
    });
    close = hub.close;
    const el = await mount<SondeAgent>(`<test-agent hub="${hub.url}" agent="ghost" poll-interval="0"></test-agent>`);
    await until(() => shadowText(el).includes('No agent with id or name "ghost".'));
  });
});
