import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUser, ensureBuilt, json, removeDir, runCli, spawnAgent, tempDirFor, type AgentProcess } from './support/cli.js';
import { startTestHub, type TestHub } from './support/hub-double.js';

const user = agentUser();
let hub: TestHub;
let home: string;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  ensureBuilt();
  hub = await startTestHub({ tls: true, heartbeatIntervalMs: 1000 });
  home = tempDirFor(user);
});

afterAll(async () => {
  await agent?.stop();
  await hub?.close();
  if (home) removeDir(home);
});

describe('over TLS', () => {
  it('refuses a hub whose certificate it cannot verify', async () => {
    const result = await runCli(['enroll', '--hub', hub.baseUrl, '--token', hub.createToken(), '--name', 'tls-agent', '--json'], {
      home,
      user,
    });
    expect(result.code).toBe(4);
    expect(json<{ error: { message: string } }>(result).error.message).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i);
  });

  it('enrolls with the hub CA pinned, then connects with mTLS and serves probes', async () => {
    const caFile = path.join(home, 'hub-ca.pem');
    writeFileSync(caFile, hub.ca.certPem);
    const enrolled = await runCli(
      ['enroll', '--hub', hub.baseUrl, '--ca-file', caFile, '--token', hub.createToken(), '--name', 'tls-agent', '--json'],
      { home, user },
    );
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    expect(json<{ wsUrl: string }>(enrolled).wsUrl).toMatch(/^wss:/);
    agent = spawnAgent({ home, user });
    const record = await hub.waitForRegistered();
    // The hub accepted the agent by its client certificate, not only the Bearer key.
    const socket = (record.socket as unknown as { _socket: TLSSocket })._socket;
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subject.CN).toBe('tls-agent');
    const reply = await hub.probe('nosuch.probe');
    expect(reply.payload.status).toBe('error');
  });
});
