import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';
import { SimAgent } from './support/sim-agent.js';
import { waitFor } from './support/wait.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub.close();
});

let counter = 0;
async function online(): Promise<SimAgent> {
  counter += 1;
  return SimAgent.online(hub, await hub.enroll(`dispatch-${counter}`));
}

describe('ProbeDispatcher', () => {
  it('round trip by name and by id: the request is signed for the agent and the result comes back', async () => {
    const sim = await online();
    sim.answerOk((request) => ({ probe: request.probe, params: request.params }));
    const byName = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.disk.usage', params: { path: '/' } });
    expect(byName).toMatchObject({
      agent: sim.agent.name,
      probe: 'system.disk.usage',
      status: 'ok',
      truncated: false,
      result: { probe: 'system.disk.usage', params: { path: '/' } },
    });
    expect(byName.durationMs).toBeGreaterThanOrEqual(0);
    const byId = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.id, probe: 'system.load', params: {}, timeoutMs: 5_000 });
    expect(byId).toMatchObject({ agent: sim.agent.name, status: 'ok' });
    const request = sim.received.find((message) => message.type === 'hub.probe.request' && message.payload.probe === 'system.load');
    expect(request?.payload).toMatchObject({ timeoutMs: 5_000 });
    sim.close();
  });

  it('passes the agent’s error, denied and truncated answers through', async () => {
    const sim = await online();
    sim.onProbe = (request) => ({
      requestId: request.requestId,
      status: 'denied',
      error: { code: 'SONDE_ERR_PERMISSION_DENIED', message: 'no' },
      durationMs: 3,
      truncated: true,
    });
    const result = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.x', params: {} });
    expect(result).toMatchObject({ status: 'denied', error: { code: 'SONDE_ERR_PERMISSION_DENIED' }, truncated: true });
    sim.close();
  });

  it('a result frame just under 1 MiB arrives whole', async () => {
    const sim = await online();
    const blob = 'x'.repeat(1024 * 1024 - 2_000);
    sim.answerOk(() => ({ blob }));
    const result = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.logs', params: {} });
    expect(result.status).toBe('ok');
    expect((result.result as { blob: string }).blob).toHaveLength(blob.length);
    sim.close();
  });

  it('an offline agent fails at once with its last-seen time', async () => {
    const sim = await online();
    sim.close();
    await waitFor(() => hub.gateway.fleet.get(sim.agent.name)?.status === 'offline', 'offline');
    const started = performance.now();
    const result = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {} });
    expect(performance.now() - started).toBeLessThan(250);
    expect(result).toMatchObject({ agent: sim.agent.name, status: 'offline', error: { code: 'SONDE_ERR_AGENT_OFFLINE' }, durationMs: 0 });
    expect(result.error?.message).toMatch(
      new RegExp(`^agent ${sim.agent.name} is offline, last seen \\d{4}-\\d\\d-\\d\\dT.* \\(\\d+ s ago\\)$`),
    );

    const never = await hub.enroll(`never-${counter}`);
    expect((await hub.gateway.dispatcher.dispatch({ agent: never.id, probe: 'system.load', params: {} })).error?.message).toBe(
      `agent ${never.name} is offline, last seen never`,
    );
  });

  it('an unknown agent is an error, not a wait', async () => {
    const result = await hub.gateway.dispatcher.dispatch({ agent: 'no-such-agent', probe: 'system.load', params: {} });
    expect(result).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_UNKNOWN_AGENT' } });
  });

  it('times out after the request timeout plus a small margin', async () => {
    const sim = await online();
    const started = performance.now();
    const result = await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {}, timeoutMs: 200 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'SONDE_ERR_TIMEOUT' } });
    expect(elapsed).toBeGreaterThanOrEqual(1_150);
    expect(elapsed).toBeLessThan(4_000);
    // A late answer is ignored, not an error.
    const request = sim.received.find((message) => message.type === 'hub.probe.request');
    sim.send('agent.probe.result', {
      requestId: (request!.payload as { requestId: string }).requestId,
      status: 'ok',
      durationMs: 1,
      truncated: false,
    });
    sim.close();
  });

  it('caps the wait at 45 s whatever timeout is asked for', async () => {
    const sim = await online();
    const pending = hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {}, timeoutMs: 120_000 });
    const request = await sim.next('hub.probe.request');
    expect((request.payload as { timeoutMs: number }).timeoutMs).toBe(44_000);
    sim.close();
    expect((await pending).status).toBe('offline');
  });

  it('a socket dropped mid-request fails the pending request at once', async () => {
    const sim = await online();
    const pending = hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {}, timeoutMs: 30_000 });
    await sim.next('hub.probe.request');
    const dropped = performance.now();
    sim.ws.terminate();
    const result = await pending;
    expect(performance.now() - dropped).toBeLessThan(1_500);
    expect(result).toMatchObject({ status: 'offline', error: { code: 'SONDE_ERR_AGENT_DISCONNECTED' } });
  });

  it('a cancelled request returns at once', async () => {
    const sim = await online();
    const controller = new AbortController();
    const pending = hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {}, signal: controller.signal });
    await sim.next('hub.probe.request');
    controller.abort();
    expect(await pending).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_CANCELLED' } });
    sim.close();
  });

  it('one agent cannot answer another agent’s request', async () => {
    const target = await online();
    const intruder = await online();
    const pending = hub.gateway.dispatcher.dispatch({ agent: target.agent.name, probe: 'system.load', params: {}, timeoutMs: 10_000 });
    const request = await target.next('hub.probe.request');
    const requestId = (request.payload as { requestId: string }).requestId;
    intruder.send('agent.probe.result', { requestId, status: 'ok', result: { forged: true }, durationMs: 1, truncated: false });
    // The intruder's answer was looked up on its own connection and found nothing to settle.
    await waitFor(
      () =>
        hub.logs.some(
          (line) =>
            line.agent === intruder.agent.name &&
            line.requestId === requestId &&
            String(line.msg).startsWith('probe result for no pending'),
        ),
      'the forged answer to be dropped',
    );
    target.send('agent.probe.result', { requestId, status: 'ok', result: { genuine: true }, durationMs: 1, truncated: false });
    expect(await pending).toMatchObject({ status: 'ok', result: { genuine: true } });
    target.close();
    intruder.close();
  });

  it('disconnect() closes the agent (4401) and fails its pending requests', async () => {
    const sim = await online();
    const pending = hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {} });
    await sim.next('hub.probe.request');
    hub.gateway.disconnect(sim.agent.id, 'agent removed by admin');
    expect(await pending).toMatchObject({ status: 'offline', error: { code: 'SONDE_ERR_AGENT_DISCONNECTED' } });
    expect((await sim.closed).code).toBe(4401);
    expect(sim.received.find((message) => message.type === 'reject')?.payload).toMatchObject({ code: 'SONDE_ERR_AGENT_REMOVED' });
  });
});

describe('liveness', () => {
  it('heartbeats keep an agent online; silence makes it offline within two intervals', async () => {
    const sim = await online();
    sim.startHeartbeats();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(hub.gateway.fleet.get(sim.agent.name)?.status).toBe('online');
    // Freeze the agent: no frames and no pongs (the socket is not read any more).
    const frozen = Date.now();
    sim.freeze();
    await waitFor(() => hub.gateway.fleet.get(sim.agent.name)?.status === 'offline', 'offline', 4_000);
    const detectedAfter = Date.now() - frozen;
    // Two intervals (2 s) after the last frame, plus the sweep period (250 ms) and scheduling slack.
    expect(detectedAfter).toBeLessThan(2 * hub.heartbeatMs + 1_500);
    expect((await hub.gateway.dispatcher.dispatch({ agent: sim.agent.name, probe: 'system.load', params: {} })).status).toBe('offline');
    sim.ws.terminate();
  });

  it('a stalled hub event loop does not declare live agents dead', async () => {
    const sim = await online();
    sim.startHeartbeats();
    // Block this process (hub and simulated agent alike) for three intervals.
    const until = Date.now() + 3 * hub.heartbeatMs;
    while (Date.now() < until) {
      // busy wait
    }
    await new Promise((resolve) => setTimeout(resolve, hub.heartbeatMs));
    expect(sim.ws.readyState).toBe(sim.ws.OPEN);
    expect(hub.gateway.fleet.get(sim.agent.name)?.status).toBe('online');
    expect(hub.logs.some((line) => line.msg === 'hub event loop stalled: liveness deadlines extended by one interval')).toBe(true);
    sim.close();
  });

  it('removal while connected ends the session at the next heartbeat', async () => {
    const sim = await online();
    await hub.store.agents.remove(sim.agent.id, new Date().toISOString());
    sim.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1 });
    expect((await sim.closed).code).toBe(4401);
  });

  it('revoking the agent key while connected ends the session at the next heartbeat', async () => {
    const sim = await online();
    await hub.store.apiKeys.revoke(sim.agent.keyId, new Date().toISOString());
    sim.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1 });
    expect((await sim.closed).code).toBe(4401);
  });
});
