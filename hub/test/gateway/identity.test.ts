import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';
import { attestation, SimAgent } from './support/sim-agent.js';
import { waitFor } from './support/wait.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub.close();
});

let counter = 0;
const enroll = (): ReturnType<TestHub['enroll']> => hub.enroll(`identity-${++counter}`);
const auditFor = (name: string): Array<[string, string]> =>
  hub.audit.entries.filter((entry) => entry.agents?.includes(name)).map((entry) => [entry.action, entry.status]);

describe('one live connection per agent identity', () => {
  it('refuses a second connection with the same credentials, flags the agent and keeps the first working', async () => {
    const agent = await enroll();
    const first = await SimAgent.online(hub, agent);
    first.startHeartbeats();
    first.answerOk();

    const clone = await SimAgent.connect(hub, agent);
    const answer = await clone.register();
    expect(answer.type).toBe('reject');
    expect(answer.payload).toMatchObject({ code: 'SONDE_ERR_DUPLICATE_IDENTITY' });
    expect((await clone.closed).code).toBe(4409);

    const view = hub.gateway.fleet.get(agent.name);
    expect(view?.status).toBe('degraded');
    expect(view?.reasons.some((reason) => reason.startsWith('duplicate identity'))).toBe(true);
    expect(auditFor(agent.name)).toContainEqual(['agent.duplicate_identity', 'denied']);
    expect(hub.logs.some((line) => line.msg.startsWith('duplicate identity'))).toBe(true);

    // The first connection still holds the identity and answers probes.
    expect(await hub.gateway.dispatcher.dispatch({ agent: agent.name, probe: 'system.load', params: {} })).toMatchObject({ status: 'ok' });
    // A second clone attempt does not pile up reasons.
    const again = await SimAgent.connect(hub, agent);
    expect((await again.register()).payload).toMatchObject({ code: 'SONDE_ERR_DUPLICATE_IDENTITY' });
    expect(
      (await hub.store.agents.getById(agent.id))?.degradedReasons.filter((reason) => reason.startsWith('duplicate identity')),
    ).toHaveLength(1);
    first.close();
  });

  it('a reconnect replaces a previous connection that no longer answers pings (not a clone)', async () => {
    const agent = await enroll();
    const stale = await SimAgent.online(hub, agent);
    stale.freeze();
    const fresh = await SimAgent.connect(hub, agent);
    const answer = await fresh.register();
    expect(answer.type).toBe('hub.registered');
    fresh.answerOk();
    expect(await hub.gateway.dispatcher.dispatch({ agent: agent.name, probe: 'system.load', params: {} })).toMatchObject({ status: 'ok' });
    expect(hub.gateway.fleet.get(agent.name)?.reasons).toEqual([]);
    fresh.close();
    stale.ws.terminate();
  });
});

describe('attestation', () => {
  it('an unexpected change degrades the agent until an admin accepts; heartbeats never clear it', async () => {
    const agent = await enroll();
    const first = await SimAgent.online(hub, agent);
    first.close();
    await first.closed;
    await waitFor(() => !hub.gateway.fleet.get(agent.name)?.connected, 'first connection gone');

    const tampered = attestation({ agentCodeSha256: 'd'.repeat(64), kernel: '6.1.0-99-amd64' });
    const second = await SimAgent.online(hub, agent, { attestation: tampered });
    second.startHeartbeats();
    const view = hub.gateway.fleet.get(agent.name);
    expect(view?.status).toBe('degraded');
    expect(view?.reasons).toHaveLength(1);
    expect(view?.reasons[0]).toContain('agent code sha256 aaaaaaaaaaaa → dddddddddddd');
    expect(view?.reasons[0]).toContain('kernel 6.1.0-13-amd64 → 6.1.0-99-amd64');
    const record = (await hub.store.agents.getById(agent.id))!;
    expect(record.attestationBaseline?.agentCodeSha256).toBe('a'.repeat(64));
    expect(record.pendingAttestation?.agentCodeSha256).toBe('d'.repeat(64));
    expect(auditFor(agent.name)).toContainEqual(['agent.degraded', 'error']);

    // Three heartbeats later it is still degraded.
    await new Promise((resolve) => setTimeout(resolve, 3 * hub.heartbeatMs + 200));
    expect(hub.gateway.fleet.get(agent.name)?.status).toBe('degraded');
    second.close();
    await second.closed;
    await waitFor(() => !hub.gateway.fleet.get(agent.name)?.connected, 'second connection gone');

    // Reconnecting with the same change adds no second reason; the admin's accept clears it.
    const third = await SimAgent.online(hub, agent, { attestation: tampered });
    expect((await hub.store.agents.getById(agent.id))?.degradedReasons).toHaveLength(1);
    await hub.store.agents.acceptAttestation(agent.id);
    expect(hub.gateway.fleet.get(agent.name)?.status).toBe('online');
    third.close();
  });

  it('an agent version change is a new baseline, not a degradation', async () => {
    const agent = await enroll();
    const first = await SimAgent.online(hub, agent);
    first.close();
    await waitFor(() => !hub.gateway.fleet.get(agent.name)?.connected, 'first connection gone');
    const upgraded = attestation({ agentVersion: '0.2.0', agentCodeSha256: 'e'.repeat(64), packs: [] });
    const second = await SimAgent.online(hub, agent, { agentVersion: '0.2.0', attestation: upgraded, packs: [] });
    const view = hub.gateway.fleet.get(agent.name);
    expect(view).toMatchObject({ status: 'online', reasons: [], agentVersion: '0.2.0' });
    expect((await hub.store.agents.getById(agent.id))?.attestationBaseline).toEqual(upgraded);
    second.close();
  });

  it('failed packs show as degraded reasons while they last', async () => {
    const agent = await enroll();
    const sim = await SimAgent.online(hub, agent);
    // `system` 1.0.0 is in the agent's attestation (sim-agent.ts), so once active again it serves.
    sim.send('agent.packs', { packs: [{ name: 'system', version: '1.0.0', state: 'failed', reason: 'docker socket not readable' }] });
    await waitFor(() => hub.gateway.fleet.get(agent.name)?.status === 'degraded', 'degraded');
    expect(hub.gateway.fleet.get(agent.name)?.reasons).toEqual(['pack system failed: docker socket not readable']);
    sim.send('agent.packs', { packs: [{ name: 'system', version: '1.0.0', state: 'active' }] });
    await waitFor(() => hub.gateway.fleet.get(agent.name)?.status === 'online', 'online again');
    sim.close();
  });
});

describe('fleet and shutdown', () => {
  it('lists enrolled, non-removed agents with their state', async () => {
    const online = await enroll();
    const offline = await enroll();
    const removed = await enroll();
    await hub.store.agents.remove(removed.id, new Date().toISOString());
    const sim = await SimAgent.online(hub, online);
    const names = hub.gateway.fleet.list().map((view) => view.name);
    expect(names).toContain(online.name);
    expect(names).toContain(offline.name);
    expect(names).not.toContain(removed.name);
    expect(hub.gateway.fleet.get(removed.id)).toBeUndefined();
    expect(hub.gateway.fleet.get(offline.name)).toMatchObject({ status: 'offline', connected: false, lastSeenAt: null, isolation: null });
    sim.close();
  });

  it('records security events from the agent in the audit log', async () => {
    const agent = await enroll();
    const sim = await SimAgent.online(hub, agent);
    sim.send('agent.security', { kind: 'effect_refused', pack: 'nginx', probe: 'nginx.config', detail: 'read of /etc/shadow refused' });
    await waitFor(() => auditFor(agent.name).some(([action]) => action === 'agent.security'), 'security audit');
    expect(hub.audit.entries.find((entry) => entry.action === 'agent.security')).toMatchObject({
      status: 'denied',
      probe: 'nginx.config',
      detail: 'effect_refused (pack nginx): read of /etc/shadow refused',
    });
    sim.close();
  });
});

describe('audit flooding', () => {
  it('audits at most 60 security events a minute per connection; the rest are logged', async () => {
    const agent = await enroll();
    const sim = await SimAgent.online(hub, agent);
    for (let i = 0; i < 70; i++) sim.send('agent.security', { kind: 'effect_refused', detail: `attempt ${i}` });
    await waitFor(
      () => hub.logs.filter((line) => line.agent === agent.name && line.msg === 'agent security event: attempt 69').length === 1,
      'all events handled',
    );
    expect(auditFor(agent.name).filter(([action]) => action === 'agent.security')).toHaveLength(60);
    sim.close();
  });
});

describe('close()', () => {
  it('closes every agent socket (1001) and fails pending requests; the server shuts down', async () => {
    const own = await startTestHub();
    const agent = await own.enroll('closing-01');
    const sim = await SimAgent.online(own, agent);
    const pending = own.gateway.dispatcher.dispatch({ agent: agent.name, probe: 'system.load', params: {} });
    await sim.next('hub.probe.request');
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await pending).toMatchObject({ status: 'offline', error: { code: 'SONDE_ERR_AGENT_DISCONNECTED' } });
    expect((await sim.closed).code).toBe(1001);
  });
});
