import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.js';
import { createTestCa, pooledRsa, warmRsa } from './support/pki.js';
import { openSocket, SimAgent } from './support/sim-agent.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ tls: true });
  // Keys for the attacker CA and replacement certificates.
  await warmRsa([40, 41, 42]);
});
afterAll(async () => {
  await hub.close();
});

let counter = 0;
const enroll = (): ReturnType<TestHub['enroll']> => hub.enroll(`mtls-${++counter}`);
/** Why the hub refused the last connection (logged, never sent to the peer). */
const lastRefusal = (): string => String(hub.logs.filter((line) => line.msg === 'agent connection refused before upgrade').at(-1)?.reason);
const clientCert = (agent: Awaited<ReturnType<TestHub['enroll']>>): { certPem: string; keyPem: string } => ({
  certPem: agent.certPem,
  keyPem: agent.privateKeyPem,
});

describe('mTLS on /ws/agent', () => {
  it('a client certificate from the hub CA authenticates without any key', async () => {
    const agent = await enroll();
    const sim = await SimAgent.connect(hub, agent, { authorization: null, cert: clientCert(agent) });
    expect((await sim.register()).type).toBe('hub.registered');
    expect(hub.audit.entries.find((entry) => entry.action === 'agent.connect' && entry.agents?.includes(agent.name))?.detail).toMatch(
      /^mtls from /,
    );
    sim.close();
  });

  it('an agent key alone still works over TLS', async () => {
    const agent = await enroll();
    const sim = await SimAgent.connect(hub, agent);
    expect((await sim.register()).type).toBe('hub.registered');
    sim.close();
  });

  it('no certificate and no key → 401', async () => {
    expect(await openSocket(hub, { authorization: null })).toMatchObject({ status: 401 });
  });

  it('a certificate from another CA is refused even with a valid key beside it', async () => {
    const agent = await enroll();
    const foreign = createTestCa('Attacker CA', 40);
    const forged = foreign.issueClient(agent.name, agent.publicKeyPem);
    const forgedCert = { certPem: forged.certPem, keyPem: agent.privateKeyPem };
    expect(await openSocket(hub, { authorization: null, cert: forgedCert })).toMatchObject({ status: 401 });
    expect(lastRefusal()).toBe('client certificate not verified by TLS: UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await openSocket(hub, { apiKey: agent.apiKey, cert: forgedCert })).toMatchObject({ status: 401 });
    expect(lastRefusal()).toBe('client certificate not verified by TLS: UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('a hub-CA certificate without clientAuth is refused', async () => {
    const agent = await enroll();
    const serverOnly = hub.ca.issueClient(agent.name, agent.publicKeyPem, { clientAuth: false });
    expect(
      await openSocket(hub, { authorization: null, cert: { certPem: serverOnly.certPem, keyPem: agent.privateKeyPem } }),
    ).toMatchObject({
      status: 401,
    });
    expect(lastRefusal()).toBe('client certificate not verified by TLS: INVALID_PURPOSE');
  });

  it('a valid certificate that is not the agent’s current one (replaced at re-enrolment) is refused', async () => {
    const agent = await enroll();
    const keys = pooledRsa(41);
    const replacement = hub.ca.issueClient(agent.name, keys.publicKeyPem);
    await hub.store.agents.replaceCredentials(agent.id, {
      ...replacement,
      certSerial: replacement.serial,
      certNotAfter: new Date(Date.now() + 86_400_000).toISOString(),
      publicKeyPem: keys.publicKeyPem,
    });
    expect(await openSocket(hub, { authorization: null, cert: clientCert(agent) })).toMatchObject({ status: 401 });
    expect(lastRefusal()).toMatch(/^no agent holds certificate serial/);
  });

  it('the certificate of a removed agent is refused', async () => {
    const agent = await enroll();
    await hub.store.agents.remove(agent.id, new Date().toISOString());
    expect(await openSocket(hub, { authorization: null, cert: clientCert(agent) })).toMatchObject({ status: 401 });
    expect(lastRefusal()).toMatch(/is revoked$/);
  });

  it('a certificate and a key of two different agents are refused', async () => {
    const one = await enroll();
    const two = await enroll();
    expect(await openSocket(hub, { apiKey: two.apiKey, cert: clientCert(one) })).toMatchObject({ status: 401 });
    expect(lastRefusal()).toBe(`certificate of ${one.name} presented with the API key of ${two.name}`);
  });

  it('a certificate replaced while connected ends the mTLS session at the next heartbeat', async () => {
    const agent = await enroll();
    const sim = await SimAgent.connect(hub, agent, { authorization: null, cert: clientCert(agent) });
    expect((await sim.register()).type).toBe('hub.registered');
    const keys = pooledRsa(42);
    const replacement = hub.ca.issueClient(agent.name, keys.publicKeyPem);
    await hub.store.agents.replaceCredentials(agent.id, {
      certPem: replacement.certPem,
      certSerial: replacement.serial,
      certNotAfter: new Date(Date.now() + 86_400_000).toISOString(),
      publicKeyPem: keys.publicKeyPem,
    });
    sim.send('agent.heartbeat', { uptimeS: 1, running: 0, rssBytes: 1 });
    expect((await sim.closed).code).toBe(4401);
  });
});
