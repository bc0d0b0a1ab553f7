import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHubCore } from '../../hub/src/core.js';
import { runCli as runHubCli, startHubProcess, type RunningHub } from '../../hub/test/process.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * The administration guide's backup procedure as a drill, on real processes:
 * a hub with a real agent, single sign-on records and a sealed integration
 * credential is backed up while it serves probe calls; the backup is restored
 * with `sonde-hub restore` into a fresh data folder and a new hub started on
 * it at the same address. The agent comes back on its own, the credential
 * decrypts, the SSO records are there and the audit chain verifies.
 */
describe('backup and restore drill', () => {
  let stack: Stack;
  let restored: RunningHub | undefined;
  let restoreDir: string;
  let backupFile: string;
  const instanceId = randomUUID();

  const cli = async (args: string[], env: Record<string, string>): Promise<Record<string, unknown>> => {
    const result = await runHubCli([...args, '--json'], env);
    if (result.code !== 0) throw new Error(`sonde-hub ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const probe = async (url: string, key: string, agent: string): Promise<string> => {
    const response = await fetch(`${url}/api/v1/probes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent, probe: 'system.disk.usage', params: {} }),
    });
    return ((await response.json()) as { status: string }).status;
  };

  beforeAll(async () => {
    stack = await startStack({ packs: ['system'], agentName: 'drill-agent' });
    await stack.waitForAgentOnline();
    restoreDir = mkdtempSync(path.join(os.tmpdir(), 'sonde-restore-'));
    backupFile = path.join(restoreDir, 'backup.db');
    // Single sign-on records through the CLI, a sealed integration credential as the integration service stores it.
    await cli(['groups', 'add', 'ops-group', '--name', 'Operations', '--role', 'member'], stack.hubEnv);
    await cli(['users', 'add', 'alice@example.com', '--role', 'admin'], stack.hubEnv);
    const core = await openHubCore({ dbPath: stack.hubEnv.SONDE_DB_PATH, secret: stack.hubEnv.SONDE_SECRET, ca: false });
    try {
      await core.store.integrations.ensurePack('prometheus', '@sonde/pack-prometheus');
      const now = new Date().toISOString();
      await core.store.integrations.createInstance({
        id: instanceId,
        name: 'metrics-prod',
        pack: 'prometheus',
        endpoint: 'http://127.0.0.1:9',
        credentialsSealed: core.crypto.sealer.seal(JSON.stringify({ token: 'drill-secret' }), `integration-instance:${instanceId}`),
        status: 'untested',
        lastError: null,
        lastCheckedAt: null,
        createdAt: now,
        updatedAt: now,
      });
    } finally {
      await core.close();
    }
  });

  afterAll(async () => {
    await restored?.stop();
    await stack?.stop();
    if (restoreDir) rmSync(restoreDir, { recursive: true, force: true });
  });

  it('takes a backup while the hub serves probe calls', async () => {
    let calls = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        expect(await probe(stack.hub.url, stack.adminKey, stack.agentName)).toBe('ok');
        calls += 1;
      }
    })();
    try {
      // Calls are in flight before and while the backup runs.
      while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 20));
      const backup = await cli(['backup', '--out', backupFile], stack.hubEnv);
      expect(backup).toMatchObject({ file: backupFile, bytes: statSync(backupFile).size });
      expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    } finally {
      stop = true;
      await load;
    }
    // A backup never overwrites.
    const again = await runHubCli(['backup', '--out', backupFile], stack.hubEnv);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists already/);
  });

  it('refuses to restore with another SONDE_SECRET, clearly, and writes nothing', async () => {
    const target = path.join(restoreDir, 'wrong', 'sonde.db');
    const wrong = await runHubCli(['restore', '--from', backupFile], {
      ...stack.hubEnv,
      SONDE_SECRET: randomBytes(32).toString('base64'),
      SONDE_DB_PATH: target,
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/SONDE_ERR_WRONG_SECRET/);
    expect(existsSync(target)).toBe(false);
    // The backup itself, put in place by hand, is refused by the hub with the same code.
    const started = await startHubProcess({
      ...stack.hubEnv,
      SONDE_SECRET: randomBytes(32).toString('base64'),
      SONDE_DB_PATH: backupFile,
    }).then(
      (hub) => hub.stop().then(() => 'started'),
      (error: Error) => error.message,
    );
    expect(started).toMatch(/hub exited with 3/);
  });

  it('restores on a fresh hub: the agent comes back, the credential decrypts, SSO records survive, the audit verifies', async () => {
    await stack.hub.stop();
    const env = { ...stack.hubEnv, SONDE_DB_PATH: path.join(restoreDir, 'data', 'sonde.db'), SONDE_PORT: String(stack.hub.port) };
    const result = await cli(['restore', '--from', backupFile], env);
    expect(result).toMatchObject({ file: env.SONDE_DB_PATH, auditEntries: expect.any(Number) });
    // The same data folder refuses a second restore without --force.
    expect((await runHubCli(['restore', '--from', backupFile], env)).code).toBe(2);

    restored = await startHubProcess(env);
    const rest = async <T>(pathname: string): Promise<T> => {
      const response = await fetch(`${restored!.url}${pathname}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as T;
    };
    // The agent reconnects by itself (its backoff: 1 s doubling).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const agents = await rest<{ name: string; status: string }[]>('/api/v1/agents');
      if (agents.some((a) => a.name === stack.agentName && a.status === 'online')) break;
      if (Date.now() > deadline) throw new Error(`agent not back: ${JSON.stringify(agents)}\n${stack.agent.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await probe(restored.url, stack.adminKey, stack.agentName)).toBe('ok');

    const instances = await rest<{ id: string; credentialNames: string[] }[]>('/api/v1/integrations/instances');
    expect(instances).toEqual([expect.objectContaining({ id: instanceId, credentialNames: ['token'] })]);
    const groups = (await cli(['groups', 'list'], env)) as unknown as { groupId: string }[];
    expect(groups.map((g) => g.groupId)).toEqual(['ops-group']);
    const users = (await cli(['users', 'list'], env)) as unknown as { email: string | null }[];
    expect(users.map((u) => u.email)).toContain('alice@example.com');

    const verified = await cli(['audit', 'verify', '--full'], env);
    expect(verified).toMatchObject({ ok: true, full: true });
    const audit = await rest<{ entries: { action: string }[] }>('/api/v1/audit?limit=500');
    expect(audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['hub.backup', 'hub.restore']));
  });
});
