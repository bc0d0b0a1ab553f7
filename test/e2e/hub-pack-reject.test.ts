import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { prepareFixturePack, removeDir, runCli } from '../../agent/test/support/cli.js';
import { buildUi, haveChromium, launchChromium, screenshotPath, startUiFront } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * Rejecting a pending pack version from the hub, through a real hub process
 * and a real unprivileged agent: the rejection is pinned to the version and
 * digest reviewed, the agent records it, never loads that candidate, reports
 * it (`disabled`, code SONDE_ERR_PACK_REJECTED, nothing pending), refuses to
 * approve the same digest, and takes a new version as pending again. An
 * update that is rejected leaves the serving version serving.
 */
interface PackView {
  name: string;
  version: string;
  state: string;
  code?: string;
  reason?: string;
  pending?: { version: string; permissionsSha256: string; added: string[] };
}

let stack: Stack;
const fixtures: string[] = [];

async function fixturePack(): Promise<PackView | undefined> {
  const { body } = await stack.rest<{ packs: PackView[] }>(`/api/v1/agents/${stack.agentName}`);
  return body.packs.find((pack) => pack.name === 'fixture');
}

async function waitForPack(check: (pack: PackView | undefined) => boolean, what: string, timeoutMs = 20_000): Promise<PackView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pack = await fixturePack();
    if (check(pack)) return pack!;
    if (Date.now() > deadline)
      throw new Error(`hub view never showed ${what}: ${JSON.stringify(pack)}\n${stack.agent.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function install(variant: { version?: string; files?: string[] } = {}): Promise<void> {
  const dir = await prepareFixturePack(stack.user, variant);
  fixtures.push(dir);
  const installed = await runCli(['packs', 'install', dir, '--json'], { home: stack.agentHome, user: stack.user });
  expect(installed.code, installed.stdout + installed.stderr).toBe(0);
}

function decide(decision: 'approve' | 'reject', body: { version: string; permissionsSha256: string }, key?: string) {
  return stack.rest<{ ok?: boolean; error?: { code: string; message: string } }>(
    `/api/v1/agents/${stack.agentName}/packs/fixture/${decision}`,
    { method: 'POST', body: JSON.stringify(body), ...(key ? { key } : {}) },
  );
}

async function audit(action: string): Promise<Array<{ status: string; detail: string | null; actor: { kind: string } }>> {
  const { body } = await stack.rest<{ entries: Array<{ status: string; detail: string | null; actor: { kind: string } }> }>(
    `/api/v1/audit?agent=${stack.agentName}&tool=${action}&limit=200`,
  );
  return body.entries;
}

const probe = (text: string) =>
  stack.rest<{ status: string; result?: { stdout: string } }>('/api/v1/probes', {
    method: 'POST',
    body: JSON.stringify({ agent: stack.agentName, probe: 'fixture.echo', params: { text } }),
  });

beforeAll(async () => {
  stack = await startStack({ packs: ['system'], agentName: 'e2e-pack-reject' });
  await stack.waitForAgentOnline();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  for (const dir of fixtures) removeDir(path.dirname(dir));
});

describe('rejecting a pending pack from the hub', () => {
  let first: { version: string; permissionsSha256: string };

  it('refuses a rejection that names another digest, or comes from a member', async () => {
    await install();
    const pack = await waitForPack((p) => p?.state === 'pending' && p.pending !== undefined, 'a pending fixture');
    first = { version: pack.pending!.version, permissionsSha256: pack.pending!.permissionsSha256 };
    expect(first.version).toBe('1.0.0');
    const wrong = await decide('reject', { version: '1.0.0', permissionsSha256: 'a'.repeat(64) });
    expect(wrong.status).toBe(409);
    const member = await stack.createKey(['--name', 'e2e-member', '--role', 'member']);
    expect((await decide('reject', first, member)).status).toBe(403);
    expect((await fixturePack())?.state).toBe('pending');
    expect((await audit('agent.pack.reject')).map((entry) => entry.status)).toContain('denied');
  });

  it('rejects exactly the reviewed version: the agent records it, loads nothing and reports it rejected', async () => {
    const response = await decide('reject', first);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const pack = await waitForPack((p) => p?.state === 'disabled', 'a rejected fixture');
    expect(pack).toMatchObject({ version: '1.0.0', code: 'SONDE_ERR_PACK_REJECTED' });
    expect(pack.pending).toBeUndefined();
    expect(pack.reason).toMatch(/^1\.0\.0 rejected by hub:e2e-admin/);
    const held = JSON.parse(readFileSync(path.join(stack.agentHome, 'rejections.json'), 'utf8')) as {
      packs: Record<string, { version: string; permissionsSha256: string; by: string }>;
    };
    expect(held.packs.fixture).toMatchObject({ ...first, by: 'hub:e2e-admin' });
    expect((await probe('never')).body.status).not.toBe('ok');
    // One entry from the route (the admin's decision) and one from the agent's own pack log.
    await expect
      .poll(async () => (await audit('agent.pack.reject')).filter((entry) => entry.status === 'ok').map((entry) => entry.actor.kind), {
        timeout: 10_000,
      })
      .toEqual(expect.arrayContaining(['agent', 'api_key']));
  });

  it('keeps refusing that digest: no approval through the hub, nor after the same version is installed again', async () => {
    const approve = await decide('approve', first);
    expect(approve.status).toBe(409);
    expect((approve.body.error?.message ?? '') + JSON.stringify(approve.body)).toMatch(/nothing awaiting approval/);
    // The same signed version installed again is still the rejected digest.
    const again = await prepareFixturePack(stack.user);
    fixtures.push(again);
    await runCli(['packs', 'install', again, '--json'], { home: stack.agentHome, user: stack.user });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const pack = await waitForPack((p) => p !== undefined, 'the fixture');
    expect(pack).toMatchObject({ state: 'disabled', code: 'SONDE_ERR_PACK_REJECTED' });
    expect(pack.pending).toBeUndefined();
  });

  it('takes a new version as pending again, and approving it serves it', async () => {
    await install({ version: '1.0.1' });
    const pack = await waitForPack((p) => p?.pending?.version === '1.0.1', 'a pending 1.0.1');
    expect(pack.state).toBe('pending');
    const approved = await decide('approve', { version: '1.0.1', permissionsSha256: pack.pending!.permissionsSha256 });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await waitForPack((p) => p?.state === 'active' && p.version === '1.0.1', 'an active 1.0.1');
    expect((await probe('served')).body).toMatchObject({ status: 'ok', result: { stdout: 'served\n' } });
  });

  it('rejects an update that asks for more: the serving version keeps serving and says which version was rejected', async () => {
    await install({ version: '1.1.0', files: ['/tmp/**', '/var/tmp/**'] });
    const pack = await waitForPack((p) => p?.pending?.version === '1.1.0', 'a pending 1.1.0 update');
    expect(pack).toMatchObject({ state: 'active', version: '1.0.1' });
    expect(pack.pending!.added.join(' ')).toMatch(/\/var\/tmp/);
    const rejected = await decide('reject', { version: '1.1.0', permissionsSha256: pack.pending!.permissionsSha256 });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const after = await waitForPack((p) => p?.pending === undefined, 'the update gone from pending');
    expect(after).toMatchObject({ state: 'active', version: '1.0.1' });
    expect(after.reason).toMatch(/^1\.1\.0 rejected by hub:e2e-admin .*; 1\.0\.1 keeps serving$/);
    expect((await probe('still')).body).toMatchObject({ status: 'ok', result: { stdout: 'still\n' } });
    expect(existsSync(path.join(stack.agentHome, 'rejections.json'))).toBe(true);
  });

  it('lets the host operator approve a rejected version locally (the host decides last)', async () => {
    const approved = await runCli(['packs', 'approve', 'fixture', '--json'], { home: stack.agentHome, user: stack.user });
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ ok: true, version: '1.1.0' });
    const held = JSON.parse(readFileSync(path.join(stack.agentHome, 'rejections.json'), 'utf8')) as { packs: Record<string, unknown> };
    expect(held.packs.fixture).toBeUndefined();
  });
});

describe.skipIf(!haveChromium())('the Reject button in <sonde-agent> (dashboard in Chromium, signed in)', () => {
  let page: Page;
  let front: { url: string; close(): Promise<void> } | undefined;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    buildUi();
    front = await startUiFront(stack.hub.url);
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await front?.close();
  });

  async function shoot(name: string): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: screenshotPath(`${name}-${scheme}`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  it('shows the pending update with what it adds, rejects it, and the agent keeps serving what it had', { timeout: 90_000 }, async () => {
    await install({ version: '1.2.0', files: ['/tmp/**', '/var/tmp/**', '/var/log/**'] });
    await waitForPack((p) => p?.pending?.version === '1.2.0', 'a pending 1.2.0 update');

    await page.goto(`${front!.url}/`);
    await page.locator('sonde-app input[name=user]').fill('admin');
    await page.locator('sonde-app input[name=password]').fill(stack.hubEnv.SONDE_ADMIN_PASSWORD);
    await page.locator('sonde-app button[type=submit]').click();
    await page.locator(`sonde-fleet [part=row][data-agent=${stack.agentName}]`).waitFor();
    await page.goto(`${front!.url}/#/agent/${stack.agentName}`);
    const row = page.locator('sonde-agent [part=packs] tr[data-pack=fixture]');
    const reject = row.locator('button', { hasText: 'Reject' });
    await reject.waitFor();
    expect(await row.textContent()).toContain('/var/log/**');
    await shoot('agent-pack-reject-pending');

    await reject.click();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toMatch(/1\.2\.0 rejected by hub:admin .*; 1\.1\.0 keeps serving/);
    expect(await row.locator('button').count()).toBe(0);
    await shoot('agent-pack-rejected');

    const pack = await fixturePack();
    expect(pack).toMatchObject({ state: 'active', version: '1.1.0' });
    expect(pack?.pending).toBeUndefined();
    expect((await probe('kept')).body).toMatchObject({ status: 'ok', result: { stdout: 'kept\n' } });
    const entries = await audit('agent.pack.reject');
    expect(entries.some((entry) => entry.status === 'ok' && entry.actor.kind === 'user' && entry.detail?.startsWith('fixture@1.2.0'))).toBe(
      true,
    );
  });
});
