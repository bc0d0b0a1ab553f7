import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEnvelopeSignature } from '@sonde/pack-sdk/protocol';
import { json, removeDir, runCli, tempDirFor } from './support/cli.js';
import { startFixtureAgent, type FixtureAgent } from './support/fixture-agent.js';
import type { TestHub } from './support/hub-double.js';

// A real agent process (as the unprivileged user when root) enrolled to the hub double, the fixture pack approved.
let fixtureAgent: FixtureAgent;
let hub: TestHub;
let home: string;
let agentId: string;
let user: FixtureAgent['user'];

beforeAll(async () => {
  fixtureAgent = await startFixtureAgent('e2e-agent', { heartbeatIntervalMs: 1000 });
  ({ hub, home, agentId, user } = fixtureAgent);
});

afterAll(async () => {
  await fixtureAgent?.stop();
});

describe('enrolled agent', () => {
  it('stores its key, certificate, CA and API key with mode 0600 in a 0700 home', () => {
    for (const file of ['agent.key.pem', 'agent.cert.pem', 'ca.cert.pem', 'agent.api-key', 'identity.json', 'config.json']) {
      expect((statSync(path.join(home, file)).mode & 0o777).toString(8), file).toBe('600');
    }
    expect((statSync(home).mode & 0o777).toString(8)).toBe('700');
    // Only the CSR left the host: the hub never saw a private key.
    expect(hub.enrollRequests[0].csrPem).toContain('CERTIFICATE REQUEST');
    expect(JSON.stringify(hub.enrollRequests)).not.toContain('PRIVATE KEY');
  });

  it('registers with attestation, its active pack and its isolation level', () => {
    const register = hub.live()!.received.find((m) => m.type === 'agent.register');
    expect(register?.type).toBe('agent.register');
    if (register?.type !== 'agent.register') return;
    expect(register.envelope.agentId).toBe(agentId);
    expect(register.payload.attestation.agentCodeSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(register.payload.attestation.packs.map((p) => p.name)).toEqual(['fixture']);
    expect(register.payload.packs).toEqual([expect.objectContaining({ name: 'fixture', state: 'active' })]);
    // Packs run sandboxed by default (sandbox.mode = process; pack-sdk/src/sandbox/README.md).
    expect(register.payload.isolation).toMatch(/^permission-model/);
  });

  it('answers a probe with a result signed by its own key', async () => {
    const reply = await hub.probe('fixture.echo', { text: 'hello' });
    expect(reply.payload).toMatchObject({ status: 'ok', result: { stdout: 'hello\n' }, truncated: false });
    expect(verifyEnvelopeSignature(reply.envelope, hub.agentPublicKey(agentId)!)).toBe(true);
  });

  it('scrubs secrets before signing', async () => {
    const reply = await hub.probe('fixture.secrets');
    const text = JSON.stringify(reply.payload.result);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cretpw');
    expect(text).not.toContain('abc.def.ghi');
    expect(reply.payload.result).toMatchObject({
      line: expect.stringContaining('password=[REDACTED]'),
      nested: { password: '[REDACTED]' },
    });
  });

  it('keeps injection in params inert: shell syntax is one echo argument', async () => {
    for (const text of ['; cat /etc/passwd', '$(id)', '`id`', 'a && touch /tmp/pwned-sonde', '| nc -l 4444']) {
      const reply = await hub.probe('fixture.echo', { text });
      expect(reply.payload).toMatchObject({ status: 'ok', result: { stdout: `${text}\n` } });
    }
    const flag = await hub.probe('fixture.echo', { text: '--help' });
    expect(flag.payload.status).toBe('denied');
    const extra = await hub.probe('fixture.echo', { text: 'x', binary: '/bin/sh' });
    expect(extra.payload).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_INVALID_PARAMS' } });
  });

  it('refuses path traversal and symlinks to its own key', async () => {
    const scratch = tempDirFor(user, 'sonde-scratch-');
    try {
      const { symlinkSync, chownSync } = await import('node:fs');
      const link = path.join(scratch, 'innocent.txt');
      symlinkSync(path.join(home, 'agent.key.pem'), link);
      if (user) chownSync(link, user.uid, user.gid);
      for (const target of [link, path.join(home, 'agent.key.pem'), `${scratch}/../${path.basename(home)}/agent.key.pem`, '/etc/shadow']) {
        const reply = await hub.probe('fixture.read', { path: target });
        expect(reply.payload.status, target).toBe('denied');
        expect(JSON.stringify(reply.payload)).not.toContain('PRIVATE KEY');
      }
    } finally {
      removeDir(scratch);
    }
  });

  it('caps oversized output below 1 MiB with a clear marker', async () => {
    const reply = await hub.probe('fixture.big', { bytes: 3_000_000 });
    expect(reply.payload.status).toBe('ok');
    expect(reply.payload.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(reply.envelope))).toBeLessThan(1024 * 1024);
    expect(JSON.stringify(reply.payload.result)).toContain('[TRUNCATED by sonde');
  });

  it('rejects unknown probes without running anything', async () => {
    const reply = await hub.probe('nosuch.probe');
    expect(reply.payload).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_UNKNOWN_PROBE' } });
  });

  it('reports connection and packs through sonde status --json', async () => {
    const status = json<{
      enrolled: boolean;
      running: boolean;
      connected: boolean;
      registered: boolean;
      agentId: string;
      packs: Array<{ name: string; state: string }>;
    }>(await runCli(['status', '--json'], { home, user }));
    expect(status).toMatchObject({ enrolled: true, running: true, connected: true, registered: true, agentId });
    expect(status.packs).toEqual([expect.objectContaining({ name: 'fixture', state: 'active' })]);
  });

  it('keeps a verifiable hash-chained audit of the probes it ran', async () => {
    // The entry is written after the result is sent: wait until it is there, then verify the whole chain.
    type Audit = { entries: Array<{ probe: string }>; verify: { ok: boolean } };
    let result = await runCli(['audit', '--verify', '--json'], { home, user });
    const deadline = Date.now() + 10_000;
    while (!json<Audit>(result).entries.some((e) => e.probe === 'fixture.secrets') && Date.now() < deadline) {
      result = await runCli(['audit', '--verify', '--json'], { home, user });
    }
    expect(result.code).toBe(0);
    const audit = json<Audit>(result);
    expect(audit.verify.ok).toBe(true);
    expect(audit.entries.map((e) => e.probe)).toContain('fixture.secrets');
  });
});
