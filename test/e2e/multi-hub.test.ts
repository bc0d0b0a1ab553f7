import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentUser,
  agentHome as trustedAgentHome,
  json,
  removeDir,
  runCli as runAgentCli,
  signedPackCopies,
  spawnAgent,
  type AgentProcess,
} from '../../agent/test/support/cli.js';
import { seal } from '../../hub/src/cluster/envelope.js';
import { clusterNames } from '../../hub/src/cluster/names.js';
import { dropBuckets, NATS_URL, natsUp } from '../../hub/test/cluster/support.js';
import { postgresForTests } from '../../hub/test/postgres/support.js';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { precondition } from '../support/preconditions.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const nats = precondition(
  import.meta.url,
  'nats',
  await natsUp(),
  'no NATS server with JetStream on 127.0.0.1:4222 (.ci/services.sh starts one)',
);
const postgres = await postgresForTests(import.meta.url);

/** Reconnect bounds the agents get here: the "backoff window" a killed hub's agents must be back within. */
const RECONNECT = { initialMs: 1000, maxMs: 4000 };

interface AgentView {
  name: string;
  status: string;
}

/**
 * Issue 23's done-when, on loopback: NATS (the machine's, JetStream on), three `sonde-hub serve` processes on one
 * PostgreSQL database (the machine's, a fresh database), and three real `sonde` agents, one enrolled with each hub
 * and given the other two as `hubUrls`.
 */
describe.skipIf(!nats.holds || !postgres.available.holds)('three hubs as one', () => {
  const prefix = `e2e${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-e2e-multihub-'));
  const hubEnv = (hubId: string): Record<string, string> => ({
    SONDE_SECRET: secret,
    SONDE_DATABASE_URL: databaseUrl,
    // Integration packs and their trust store live beside SONDE_DB_PATH; each hub gets the same folder.
    SONDE_DB_PATH: path.join(dataDir, 'sonde.db'),
    SONDE_ADMIN_USER: 'admin',
    SONDE_ADMIN_PASSWORD: 'multi-hub-e2e-password',
    SONDE_PORT: '0',
    SONDE_HOST: '127.0.0.1',
    SONDE_HEARTBEAT_MS: '1000',
    SONDE_LOG_LEVEL: 'info',
    SONDE_NATS_URL: NATS_URL,
    SONDE_NATS_PREFIX: prefix,
    SONDE_HUB_ID: hubId,
  });
  const secret = randomBytes(32).toString('base64');
  const user = agentUser();
  const hubs: RunningHub[] = [];
  const agents: AgentProcess[] = [];
  const homes: string[] = [];
  let adminKey: string;
  let databaseUrl = '';
  /** Every probe tool call made, by agent: the audit log must hold exactly one entry for each. */
  const probeCalls: string[] = ['agent-3'];

  const cli = async (args: string[]): Promise<Record<string, unknown>> => {
    const result = await runHubCli([...args, '--json'], hubEnv('cli'));
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const rest = async <T>(hub: RunningHub, pathname: string): Promise<T> => {
    const response = await fetch(`${hub.url}${pathname}`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  const statusOn = async (hub: RunningHub): Promise<Record<string, string>> =>
    Object.fromEntries((await rest<AgentView[]>(hub, '/api/v1/agents')).map((view) => [view.name, view.status]));
  const mcp = async (hub: RunningHub, name: string): Promise<Client> => {
    const client = new Client({ name, version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${adminKey}` } } }),
    );
    return client;
  };
  const text = (result: unknown): Record<string, unknown> =>
    JSON.parse((result as { content: Array<{ text: string }> }).content[0].text) as Record<string, unknown>;
  const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agents.map((a) => a.output().slice(-2000)).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    databaseUrl = await postgres.fresh();
    hubs.push(await startHubProcess(hubEnv('hub-1')));
    hubs.push(...(await Promise.all([startHubProcess(hubEnv('hub-2')), startHubProcess(hubEnv('hub-3'))])));
    adminKey = (await cli(['keys', 'create', '--name', 'e2e-admin', '--role', 'admin'])).rawKey as string;
    const packs = await signedPackCopies([path.join(REPO, 'packs', 'system')], user);
    for (const [index, hub] of hubs.entries()) {
      const name = `agent-${index + 1}`;
      const token = (await cli(['tokens', 'create', '--name', name, '--hub-url', hub.url])).token as string;
      const home = trustedAgentHome(user, `sonde-e2e-${name}-`);
      homes.push(home);
      json(await runAgentCli(['enroll', '--hub', hub.url, '--token', token, '--name', name, '--json'], { home, user }));
      const installed = await runAgentCli(['packs', 'install', ...packs, '--json'], { home, user });
      expect(installed.code, installed.stdout + installed.stderr).toBe(0);
      expect((await runAgentCli(['packs', 'approve', 'system', '--json'], { home, user })).code).toBe(0);
      const configFile = path.join(home, 'config.json');
      const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      const others = hubs.filter((other) => other !== hub).map((other) => other.url);
      writeFileSync(configFile, JSON.stringify({ ...config, hubUrls: others, reconnect: RECONNECT }));
      agents.push(spawnAgent({ home, user }));
    }
    await waitUntil('every hub to see the three agents online', async () => {
      for (const hub of hubs) {
        const status = await statusOn(hub);
        if (['agent-1', 'agent-2', 'agent-3'].some((name) => status[name] !== 'online')) return false;
      }
      return true;
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await Promise.all(hubs.map((hub) => hub.stop()));
    for (const home of homes) removeDir(home);
    await dropBuckets(prefix);
    await postgres.dropAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an MCP client on hub 1 probes the agent on hub 3', async () => {
    const client = await mcp(hubs[0], 'e2e-hub1');
    const result = await client.callTool({ name: 'probe', arguments: { agent: 'agent-3', probe: 'system.load.average', params: {} } });
    expect((result as { isError?: boolean }).isError, JSON.stringify(result)).toBeFalsy();
    expect(text(result)).toMatchObject({ agent: 'agent-3', status: 'ok' });
    expect(JSON.stringify(text(result))).toContain('load');
    await client.close();
  });

  it('health_check from hub 2 sees every agent', async () => {
    const client = await mcp(hubs[1], 'e2e-hub2');
    const result = text(await client.callTool({ name: 'health_check', arguments: { deadlineMs: 20_000 } }));
    const byAgent = Object.fromEntries((result.agents as Array<{ agent: string; status: string }>).map((a) => [a.agent, a.status]));
    expect(byAgent).toEqual({ 'agent-1': 'ok', 'agent-2': 'ok', 'agent-3': 'ok' });
    await client.close();
  });

  it('killing hub 2 moves its agent to another hub within the backoff window', async () => {
    const client = await mcp(hubs[0], 'e2e-after-kill');
    const probeAgent2 = async (): Promise<Record<string, unknown>> =>
      text(await client.callTool({ name: 'probe', arguments: { agent: 'agent-2', probe: 'system.load.average', params: {} } }));
    hubs[1].child.kill('SIGKILL');
    await hubs[1].stop();
    const killedAt = Date.now();
    // The first call meets "no responders" on hub 2's subject: offline at once, never a timeout.
    const first = await probeAgent2();
    expect(JSON.stringify(first)).toMatch(/"status":"ok"|SONDE_ERR_AGENT_OFFLINE/);
    let calls = 1;
    await waitUntil(
      'agent-2 to answer through hub 1 again',
      async () => {
        calls++;
        return (await probeAgent2()).status === 'ok';
      },
      RECONNECT.maxMs + 6_000,
    );
    console.log(`[multi-hub] the killed hub's agent answered again ${Date.now() - killedAt} ms after the kill (${calls} calls)`);
    expect(agents[1].output()).toMatch(/hub connection closed; reconnecting in \d+ ms/);
    expect((await statusOn(hubs[0]))['agent-2']).toBe('online');
    probeCalls.push(...Array.from({ length: calls }, () => 'agent-2'));
    await client.close();
  });

  it('refuses a forged hub-to-hub message and audits it', async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const forged = seal(
        'probe',
        'hub-1',
        { agentId: '00000000-0000-4000-8000-000000000000', probe: 'system.uptime', params: {}, timeoutMs: 1000 },
        {
          key: randomBytes(32),
          from: 'hub-3',
        },
      );
      const reply = await nc.request(clusterNames(prefix).rpc('hub-1'), forged.data, { timeout: 5_000 });
      expect(Buffer.from(reply.data).toString()).toMatch(/^!.*SONDE_ERR_CLUSTER_AUTH/);
    } finally {
      await nc.close();
    }
    await waitUntil('the refusal in the audit log', async () => {
      const { entries } = await rest<{ entries: Array<{ action: string }> }>(hubs[0], '/api/v1/audit?limit=200');
      return entries.some((entry) => entry.action === 'cluster.message.refused');
    });
  });

  it('the audit chain verifies, with one entry per call (none lost, none doubled)', async () => {
    const { entries } = await rest<{ entries: Array<{ tool: string | null; agents: string[]; status: string }> }>(
      hubs[0],
      '/api/v1/audit?tool=probe&limit=500',
    );
    expect(entries.map((entry) => entry.agents.join()).sort()).toEqual([...probeCalls].sort());
    expect(entries.filter((entry) => entry.agents.join() === 'agent-3').map((entry) => entry.status)).toEqual(['ok']);
    const health = await rest<{ entries: unknown[] }>(hubs[0], '/api/v1/audit?tool=health_check&limit=500');
    expect(health.entries).toHaveLength(1);
    const verify = await runHubCli(['audit', 'verify', '--full', '--json'], hubEnv('cli'));
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  });

  // The two tests below run after the audit count above: they enroll and revoke, which it does not expect.
  it('an enrollment token raced on hub 1 and hub 3 by two real agents is consumed once', async () => {
    const token = (await cli(['tokens', 'create', '--name', 'raced', '--hub-url', hubs[0].url])).token as string;
    const raceHomes = [0, 1].map((index) => trustedAgentHome(user, `sonde-e2e-race-${index}-`));
    homes.push(...raceHomes);
    const results = await Promise.all(
      [hubs[0], hubs[2]].map((hub, index) =>
        runAgentCli(['enroll', '--hub', hub.url, '--token', token, '--name', 'raced', '--json'], { home: raceHomes[index], user }),
      ),
    );
    const outputs = results.map((result) => result.stdout + result.stderr);
    expect(
      results.filter((result) => result.code === 0),
      outputs.join('\n'),
    ).toHaveLength(1);
    expect(outputs.find((_, index) => results[index].code !== 0)).toContain('SONDE_ERR_TOKEN_USED');
    for (const hub of [hubs[0], hubs[2]]) {
      const names = (await rest<AgentView[]>(hub, '/api/v1/agents')).map((view) => view.name);
      expect(names.filter((name) => name === 'raced')).toHaveLength(1);
    }
  });

  it('revoking the system pack on hub 1 stops it serving on the agent held by hub 3', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'packs/system/package.json'), 'utf8')) as { version: string };
    const response = await fetch(`${hubs[0].url}/api/v1/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ packs: [{ pack: '@sonde/pack-system', versions: version, reason: 'e2e: multi-hub revocation' }] }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const systemOn = async (hub: RunningHub): Promise<{ state: string; code?: string } | undefined> =>
      (await rest<{ packs: Array<{ name: string; state: string; code?: string }> }>(hub, '/api/v1/agents/agent-3')).packs.find(
        (pack) => pack.name === 'system',
      );
    // The list is signed on hub 1 and reaches agent-3 through hub 3, which holds its socket.
    await waitUntil('agent-3 to stop serving the revoked system pack', async () => (await systemOn(hubs[2]))?.state === 'failed');
    expect(await systemOn(hubs[2])).toMatchObject({ state: 'failed', code: 'SONDE_ERR_PACK_VERSION_REVOKED' });
    const client = await mcp(hubs[0], 'e2e-after-revoke');
    const result = await client.callTool({ name: 'probe', arguments: { agent: 'agent-3', probe: 'system.load.average', params: {} } });
    expect(JSON.stringify(result)).not.toMatch(/"status":"ok"/);
    await client.close();
  });
});
