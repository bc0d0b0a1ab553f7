import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFixturePack, removeDir, runCli } from '../../agent/test/support/cli.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The hub's side of agent packs, through a real hub process and a real
 * unprivileged agent: the hub sees each pack's state and what waits for
 * approval, an admin approves remotely (pinned to the version and digest
 * reviewed), pack operations on the host reach the hub's audit chain, and a
 * revocation signed by the hub reaches the agent, which stops serving the
 * revoked version.
 */
interface PackView {
  name: string;
  version: string;
  state: string;
  code?: string;
  pending?: { version: string; permissionsSha256: string; added: string[] };
}
interface AgentView {
  name: string;
  packs: PackView[];
}

let stack: Stack;
let fixture: string;

async function agentPacks(): Promise<PackView[]> {
  return (await stack.rest<AgentView>(`/api/v1/agents/${stack.agentName}`)).body.packs;
}

async function waitForPack(
  check: (pack: PackView | undefined) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<PackView | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pack = (await agentPacks()).find((candidate) => candidate.name === 'fixture');
    if (check(pack)) return pack;
    if (Date.now() > deadline)
      throw new Error(`hub view never showed ${what}: ${JSON.stringify(pack)}\n${stack.agent.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function auditActions(): Promise<string[]> {
  const { body } = await stack.rest<{ entries: Array<{ action: string; detail: string | null }> }>(
    `/api/v1/audit?agent=${stack.agentName}&limit=200`,
  );
  return body.entries.map((entry) => `${entry.action} ${entry.detail ?? ''}`);
}

beforeAll(async () => {
  stack = await startStack({ packs: ['system'], agentName: 'e2e-pack-control' });
  await stack.waitForAgentOnline();
  fixture = await prepareFixturePack(stack.user);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (fixture) removeDir(path.dirname(fixture));
});

describe('packs seen and controlled from the hub', () => {
  it('pins the hub revocation key at enrollment', async () => {
    const { body } = await stack.rest<{ key: { keyId: string } }>('/api/v1/revocations');
    const trust = JSON.parse(readFileSync(path.join(stack.agentHome, 'trust.json'), 'utf8')) as { hubKeys: Array<{ keyId: string }> };
    expect(trust.hubKeys.map((key) => key.keyId)).toEqual([body.key.keyId]);
  });

  it('shows a freshly installed pack as pending with what it asks for, and audits the install', async () => {
    const installed = await runCli(['packs', 'install', fixture, '--json'], { home: stack.agentHome, user: stack.user });
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    const pack = await waitForPack((p) => p?.state === 'pending' && p.pending !== undefined, 'a pending fixture');
    expect(pack?.pending).toMatchObject({ version: '1.0.0', permissionsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await expect
      .poll(auditActions, { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^agent\.pack\.install fixture@1\.0\.0: pending/));
  });

  it('refuses a remote approval that names another digest than the one pending', async () => {
    const response = await stack.rest<{ error: { code: string } }>(`/api/v1/agents/${stack.agentName}/packs/fixture/approve`, {
      method: 'POST',
      body: JSON.stringify({ version: '1.0.0', permissionsSha256: '0'.repeat(64) }),
    });
    expect(response.status).toBe(409);
    expect((await agentPacks()).find((p) => p.name === 'fixture')?.state).toBe('pending');
  });

  it('approves remotely: the agent activates exactly that version and records who approved', async () => {
    const pending = (await agentPacks()).find((p) => p.name === 'fixture')!.pending!;
    const member = await stack.createKey(['--name', 'e2e-member', '--role', 'member']);
    const forbidden = await stack.rest(`/api/v1/agents/${stack.agentName}/packs/fixture/approve`, {
      method: 'POST',
      key: member,
      body: JSON.stringify({ version: pending.version, permissionsSha256: pending.permissionsSha256 }),
    });
    expect(forbidden.status).toBe(403);
    const response = await stack.rest(`/api/v1/agents/${stack.agentName}/packs/fixture/approve`, {
      method: 'POST',
      body: JSON.stringify({ version: pending.version, permissionsSha256: pending.permissionsSha256 }),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await waitForPack((p) => p?.state === 'active', 'an active fixture');
    const approvals = JSON.parse(readFileSync(path.join(stack.agentHome, 'approvals.json'), 'utf8')) as {
      packs: Record<string, { version: string; by?: string }>;
    };
    expect(approvals.packs.fixture).toMatchObject({ version: '1.0.0', by: 'hub:e2e-admin' });
    const ran = await stack.rest<{ status: string; result: { stdout: string } }>('/api/v1/probes', {
      method: 'POST',
      body: JSON.stringify({ agent: stack.agentName, probe: 'fixture.echo', params: { text: 'remote' } }),
    });
    expect(ran.body).toMatchObject({ status: 'ok', result: { stdout: 'remote\n' } });
    await expect
      .poll(auditActions, { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^agent\.pack\.approve fixture@1\.0\.0: approved by hub:e2e-admin/));
  });

  it('pushes a hub-signed revocation: the agent stops serving the revoked version and says why', async () => {
    const revoked = await stack.rest<{ list: { serial: number } }>('/api/v1/revocations', {
      method: 'POST',
      body: JSON.stringify({ packs: [{ pack: '@sonde/pack-fixture', versions: '1.0.0', reason: 'e2e: leaked build' }] }),
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.list.serial).toBe(1);
    const pack = await waitForPack((p) => p?.state === 'failed', 'a revoked fixture');
    expect(pack?.code).toBe('SONDE_ERR_PACK_VERSION_REVOKED');
    const ran = await stack.rest<{ status: string }>('/api/v1/probes', {
      method: 'POST',
      body: JSON.stringify({ agent: stack.agentName, probe: 'fixture.echo', params: { text: 'again' } }),
    });
    expect(ran.body.status).not.toBe('ok');
    const held = JSON.parse(readFileSync(path.join(stack.agentHome, 'revocations.json'), 'utf8')) as { serial: number };
    expect(held.serial).toBe(1);
    // The system pack, not revoked, keeps serving.
    expect((await agentPacks()).find((p) => p.name === 'system')?.state).toBe('active');
  });

  it('refuses a revocation list with nothing in it', async () => {
    const response = await stack.rest<{ error: { code: string } }>('/api/v1/revocations', { method: 'POST', body: JSON.stringify({}) });
    expect(response.status).toBe(400);
  });
});
