import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEnvelopeSignature } from '@sonde/pack-sdk/protocol';
import {
  agentHome,
  agentUser,
  ensureBuilt,
  json,
  REPO,
  removeDir,
  runCli,
  signedPackCopies,
  spawnAgent,
  type AgentProcess,
} from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';
import { precondition } from '../../test/support/preconditions.js';

/**
 * The real system packs (packs/*), built, installed into the agent's packs
 * directory, approved, and probed through the agent. All seven must be built
 * (`npm run build`); otherwise the file skips, says why, and CI (which builds
 * them) fails on that skip.
 */
interface Manifest {
  name: string;
  probes: Array<{ name: string; params: { required?: string[] } }>;
}

const SYSTEM_PACKS = ['system', 'docker', 'systemd', 'nginx', 'postgres', 'redis', 'mysql'].map((name) => path.join(REPO, 'packs', name));
const unbuilt = SYSTEM_PACKS.filter(
  (dir) => !existsSync(path.join(dir, 'sonde-pack.json')) || !existsSync(path.join(dir, 'dist/index.js')),
);
const packsBuilt = precondition(
  import.meta.url,
  'packs-built',
  unbuilt.length === 0,
  `not built: ${unbuilt.map((dir) => path.relative(REPO, dir)).join(', ')} (run \`npm run build\`)`,
);
const built = SYSTEM_PACKS;

const user = agentUser();
let hub: TestHub;
let home: string;
let agent: AgentProcess;
let agentId: string;

describe.skipIf(!packsBuilt.holds)('real system packs through the agent', () => {
  // Inside the describe: when it is skipped, nothing is started.
  beforeAll(async () => {
    ensureBuilt();
    hub = await startTestHub({ heartbeatIntervalMs: 1000 });
    home = agentHome(user);
    agentId = json<{ agentId: string }>(
      await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'packs-e2e', '--json'], { home, user }),
    ).agentId;
    const names = built.map((dir) => (JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')) as Manifest).name);
    const installed = await runCli(['packs', 'install', ...(await signedPackCopies(built, user)), '--json'], { home, user });
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    expect((await runCli(['packs', 'approve', ...names], { home, user })).code).toBe(0);
    agent = spawnAgent({ home, user });
    await hub.waitForRegistered();
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.close();
    if (home) removeDir(home);
  });

  it('loads every built pack as active', () => {
    const register = hub.live()!.received.find((m) => m.type === 'agent.register');
    const states =
      register?.type === 'agent.register' ? register.payload.packs.map((p) => `${p.name}:${p.state}${p.reason ? ` ${p.reason}` : ''}`) : [];
    expect(
      states.every((s) => s.includes(':active')),
      states.join('\n'),
    ).toBe(true);
    expect(states).toHaveLength(built.length);
  });

  it('answers every parameterless probe with a signed, typed result or a coded error', async () => {
    const summary: string[] = [];
    for (const dir of built) {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'sonde-pack.json'), 'utf8')) as Manifest;
      for (const probe of manifest.probes.filter((p) => !p.params.required?.length)) {
        const reply = await hub.probe(`${manifest.name}.${probe.name}`, {}, { timeoutMs: 20_000 });
        expect(verifyEnvelopeSignature(reply.envelope, hub.agentPublicKey(agentId)!)).toBe(true);
        if (reply.payload.status !== 'ok') expect(reply.payload.error?.code, `${manifest.name}.${probe.name}`).toMatch(/^SONDE_ERR_/);
        summary.push(`${manifest.name}.${probe.name}: ${reply.payload.status}${reply.payload.error ? ` ${reply.payload.error.code}` : ''}`);
      }
    }
    if (process.env.SONDE_TEST_VERBOSE) console.log(summary.join('\n'));
    // The host basics must work on any Linux machine.
    for (const must of ['system.memory.usage', 'system.load.average', 'system.uptime']) {
      expect(summary, summary.join('\n')).toContain(`${must}: ok`);
    }
  });

  it('refuses to read the agent key through a log-tail path parameter', async () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'packs/system/sonde-pack.json'), 'utf8')) as Manifest;
    // The probe this test attacks must exist; a renamed probe fails here instead of passing with nothing checked.
    expect(manifest.probes.map((p) => p.name)).toContain('logs.tail');
    for (const file of [path.join(home, 'agent.key.pem'), '/var/log/../../' + path.relative('/', path.join(home, 'agent.key.pem'))]) {
      const reply = await hub.probe('system.logs.tail', { path: file, lines: 10 });
      // Refused either by the probe's own param schema or by the host guard; never read.
      const refused = reply.payload.status === 'denied' || reply.payload.error?.code === 'SONDE_ERR_INVALID_PARAMS';
      expect(refused, JSON.stringify(reply.payload)).toBe(true);
      expect(JSON.stringify(reply.payload)).not.toContain('PRIVATE KEY');
    }
  });
});
