import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './process.js';
import { api, enrollAgent, RawAgent, startHubUnderAttack, type HubUnderAttack } from './security/support.js';

/**
 * `sonde-hub packs …` and `sonde-hub integrations …` act through the running
 * hub's REST API: a real hub process, a raw agent that holds a pending pack
 * and answers the approval the way a real agent does, and the real CLI.
 */
let target: HubUnderAttack;
let agent: RawAgent;
const DIGEST = 'd'.repeat(64);

beforeAll(async () => {
  target = await startHubUnderAttack();
  agent = await RawAgent.online(await enrollAgent(target.url, target.adminKey, 'web-1'), {
    packs: [
      {
        name: 'demo',
        version: '1.0.0',
        state: 'pending',
        pending: { version: '1.0.0', permissionsSha256: DIGEST, added: ['read /var/log/demo/*.log'], permissions: {} },
      },
    ],
  });
});
afterAll(async () => {
  agent.close();
  await target.stop();
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const withKey = (key = target.adminKey) => ({ ...target.env, SONDE_API_KEY: key });

describe('sonde-hub packs and integrations (through the running hub)', () => {
  it('packs pending lists what waits, what it adds, and the exact approve command', async () => {
    const text = await runCli(['packs', 'pending'], withKey());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('web-1  demo  1.0.0');
    expect(text.stdout).toContain('+ read /var/log/demo/*.log');
    expect(text.stdout).toContain(`sonde-hub packs approve web-1 demo --version 1.0.0 --permissions ${DIGEST}`);
    const json = await runCli(['packs', 'pending', '--json'], withKey());
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ agent: 'web-1', pack: 'demo', permissionsSha256: DIGEST })]);
  });

  it('packs approve with a digest other than the one reviewed is refused by the hub (exit 7) and nothing reaches the agent', async () => {
    const refused = await runCli(['packs', 'approve', 'web-1', 'demo', '--version', '1.0.0', '--permissions', 'e'.repeat(64)], withKey());
    expect(refused.code).toBe(7);
    expect(refused.stderr).toMatch(/^sonde-hub: SONDE_ERR_CONFLICT: Agent web-1 holds 1\.0\.0/);
    expect(agent.received.some((message) => message.type === 'hub.packs.approve')).toBe(false);
  });

  it('packs approve with the reviewed digest goes to the agent, and the audit names the key that approved', async () => {
    const asked = agent.next('hub.packs.approve');
    const run = runCli(['packs', 'approve', 'web-1', 'demo', '--version', '1.0.0', '--permissions', DIGEST], withKey());
    const request = await asked;
    expect(request.payload).toMatchObject({ pack: 'demo', version: '1.0.0', permissionsSha256: DIGEST });
    agent.send('agent.packs.approve.result', { requestId: (request.payload as { requestId: string }).requestId, ok: true });
    const approved = await run;
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('web-1: demo 1.0.0 approved');
    const audit = await api(target.url, target.adminKey, 'GET', '/api/v1/audit?tool=agent.pack.approve');
    const entries = audit.json.entries as Array<{ status: string; action: string; actor: { name: string | null } }>;
    expect(entries.every((entry) => entry.action === 'agent.pack.approve')).toBe(true);
    expect(entries.filter((entry) => entry.status === 'ok').map((entry) => entry.actor.name)).toEqual(['root']);
  });

  it('packs reject sends the rejection pinned to the reviewed digest, and the hub audits it', async () => {
    const second = await RawAgent.online(
      await enrollAgent(target.url, target.adminKey, 'web-2'),
      {
        packs: [
          {
            name: 'demo',
            version: '1.0.0',
            state: 'pending',
            pending: { version: '1.0.0', permissionsSha256: DIGEST, added: [], permissions: {} },
          },
        ],
      },
      ['pack-reject'],
    );
    try {
      const asked = second.next('hub.packs.reject');
      const run = runCli(['packs', 'reject', 'web-2', 'demo', '--version', '1.0.0', '--permissions', DIGEST], withKey());
      const request = await asked;
      expect(request.payload).toMatchObject({ pack: 'demo', version: '1.0.0', permissionsSha256: DIGEST });
      second.send('agent.packs.reject.result', { requestId: (request.payload as { requestId: string }).requestId, ok: true });
      const rejected = await run;
      expect(rejected.code, rejected.stderr).toBe(0);
      expect(rejected.stdout).toContain('web-2: demo 1.0.0 rejected');
      const audit = await api(target.url, target.adminKey, 'GET', '/api/v1/audit?tool=agent.pack.reject');
      expect((audit.json.entries as Array<{ status: string; agents: string[] }>).map((e) => [e.status, e.agents])).toEqual([
        ['ok', ['web-2']],
      ]);
    } finally {
      second.close();
    }
  });

  it('says what is missing or wrong, one line each, with its own exit code', async () => {
    const noKey = await runCli(['packs', 'pending'], target.env);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/set SONDE_API_KEY to an admin API key/);

    const badKey = await runCli(['packs', 'pending'], withKey('sonde_' + 'x'.repeat(43)));
    expect(badKey.code).toBe(7);
    expect(badKey.stderr).toMatch(/^sonde-hub: SONDE_ERR_UNAUTHORIZED: the hub at http:\/\/127\.0\.0\.1:\d+ refused SONDE_API_KEY/);

    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await runCli(['integrations', 'list', '--hub-url', closed], withKey());
    expect(down.code).toBe(6);
    expect(down.stderr).toContain(`SONDE_ERR_HUB_UNREACHABLE: no answer from the hub at ${closed} (ECONNREFUSED)`);

    const missing = await runCli(['integrations', 'approve', 'no-such-pack'], withKey());
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^sonde-hub: SONDE_ERR_\w*NOT_FOUND/);

    for (const result of [noKey, badKey, down, missing]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('integrations list answers from the running hub', async () => {
    const list = await runCli(['integrations', 'list'], withKey());
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('no integration packs installed');
  });
});
