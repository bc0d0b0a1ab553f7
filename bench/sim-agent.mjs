// Simulated agents for the fleet benchmarks: each speaks the real wire protocol
// with the pack-sdk helpers (every frame signed and verified, replay guarded),
// registers with a real attestation and pack manifests, heartbeats at the
// interval the hub asks for and answers probe requests at once without running
// anything. An agent signs with RSA-SHA256 (as agents enrolled before issue 26
// do) unless it was enrolled or seeded with `wire: 'ed25519'`, the default of
// agents enrolled since: then it signs with its Ed25519 key and verifies the
// hub's frames with the hub's CA-certified Ed25519 wire key.
import { fork } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import forge from 'node-forge';
import WebSocket from 'ws';
import { REPO } from './stack.mjs';

const protocol = await import(pathToFileURL(path.join(REPO, 'pack-sdk/dist/protocol/index.js')).href);
// The real agent's timeouts and its reading of Retry-After (agent/src/runtime/connection.ts, backoff.ts), from its build.
const { HANDSHAKE_TIMEOUT_MS, REGISTER_TIMEOUT_MS, retryAfterMs } = await import(
  pathToFileURL(path.join(REPO, 'agent/dist/index.js')).href
);

const pairOf = (type, options) =>
  new Promise((resolve, reject) =>
    generateKeyPair(type, options, (error, publicKey, privateKey) => {
      if (error) return reject(error);
      resolve({
        privateKey,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      });
    }),
  );

/**
 * Key pairs made off the event loop; simulated agents share a small pool (RSA key generation is ~100 ms each). Each
 * entry is an RSA-2048 pair (the CSR's key, and the wire key of an RSA agent) with an Ed25519 pair beside it
 * (`ed25519`: the wire key of an agent enrolled with `wire: 'ed25519'`).
 */
export async function keyPool(size) {
  return Promise.all(
    Array.from({ length: size }, async () => ({ ...(await pairOf('rsa', { modulusLength: 2048 })), ed25519: await pairOf('ed25519', {}) })),
  );
}

/** The hub's public keys as key objects, made once per PEM (decodeMessage would parse a PEM on every frame). */
const publicKeys = new Map();
const publicKeyOf = (pem) => {
  let key = publicKeys.get(pem);
  if (!key) publicKeys.set(pem, (key = createPublicKey(pem)));
  return key;
};

/** The key an agent signs its frames with: its Ed25519 key when it enrolled with one, else its RSA key. */
const signingKeyOf = (agent) => (agent.wire === 'ed25519' ? agent.keys.ed25519.privateKey : agent.keys.privateKey);

export function csrFor(keys, name) {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: name }]);
  csr.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Real enrollment: an enrollment token from the REST API, then POST /api/v1/enroll with a CSR. With `wire: 'ed25519'`
 * the agent also offers its Ed25519 key (as agents since issue 26 do); the hub's certified wire key comes back, is
 * checked against the CA and returned as `hubKeyPem` (what the agent verifies the hub's frames with).
 */
export async function enrollOverHttp(hubUrl, adminKey, name, keys, { wire = 'rsa-sha256' } = {}) {
  const tokenResponse = await fetch(`${hubUrl}/api/v1/enrollment-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (tokenResponse.status !== 201) throw new Error(`token: HTTP ${tokenResponse.status} ${await tokenResponse.text()}`);
  const { token } = await tokenResponse.json();
  const csrPem = csrFor(keys, name);
  const wireKey = wire === 'ed25519' ? protocol.offerWireKey(keys.ed25519.privateKey, csrPem) : undefined;
  const response = await fetch(`${hubUrl}/api/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, csrPem, agentVersion: '0.1.0', ...(wireKey ? { wireKey } : {}) }),
  });
  if (response.status !== 201) throw new Error(`enroll: HTTP ${response.status} ${await response.text()}`);
  const body = await response.json();
  let hubKeyPem;
  if (wire === 'ed25519') {
    if (!body.wire) throw new Error('enroll: the hub did not certify the Ed25519 wire key (SONDE_WIRE_SIGNATURE=rsa-sha256?)');
    const caKey = new X509Certificate(body.caPem).publicKey;
    hubKeyPem = protocol.verifyWireKeyCert(body.wire.hubKey, caKey).export({ type: 'spki', format: 'pem' }).toString();
  }
  return { id: body.agentId, name, apiKey: body.apiKey, caPem: body.caPem, keys, wire, ...(hubKeyPem ? { hubKeyPem } : {}) };
}

/**
 * Writes agents and their agent API keys straight into the hub database, as
 * enrollment would leave them, for fleets too large to enroll one CSR at a
 * time in a benchmark session (the hub signs each certificate in JS). With
 * `wire: 'ed25519'` the row's frame key is the agent's Ed25519 key, as
 * enrollment leaves an agent that offered one.
 */
export async function seedAgents(dbPath, count, keys, prefix = 'sim', { wire = 'rsa-sha256' } = {}) {
  const { openHubStore } = await import(pathToFileURL(path.join(REPO, 'hub/dist/store/open.js')).href);
  const { createHash } = await import('node:crypto');
  const store = await openHubStore(dbPath);
  const agents = [];
  const now = new Date().toISOString();
  await store.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${i}`;
      const id = randomUUID();
      const pair = keys[i % keys.length];
      await tx.agents.create({
        id,
        name,
        enrolledAt: now,
        certPem: null,
        certSerial: null,
        certNotAfter: null,
        publicKeyPem: wire === 'ed25519' ? pair.ed25519.publicKeyPem : pair.publicKeyPem,
      });
      const apiKey = `sonde_agent_${randomBytes(24).toString('base64url')}`;
      await tx.apiKeys.create({
        id: randomUUID(),
        name: `agent:${name}`,
        type: 'agent',
        role: 'member',
        hash: createHash('sha256').update(apiKey).digest('hex'),
        prefix: apiKey.slice(0, 8),
        policy: { allowedAgents: [], allowedProbes: [], allowedClients: [] },
        agentId: id,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
      });
      agents.push({ id, name, apiKey, keys: pair, wire });
    }
  });
  await store.close();
  return agents;
}

function attestation(packs) {
  return {
    os: { platform: 'linux', release: '6.1.0-13-amd64', version: '#1 SMP Debian', distro: 'debian 12' },
    kernel: '6.1.0-13-amd64',
    arch: 'x64',
    nodeVersion: process.version,
    agentVersion: '0.1.0',
    agentCodeSha256: 'a'.repeat(64),
    configSha256: 'b'.repeat(64),
    packs: packs.map((p) => ({ name: p.name, version: p.version, sha256: 'c'.repeat(64) })),
  };
}

/**
 * Connects, registers and stays online. Resolves once `hub.registered` arrives.
 * `localAddress` spreads sockets over 127.0.0.x source addresses.
 * With the real agent's limits: the upgrade may take `HANDSHAKE_TIMEOUT_MS` (15 s), and once the socket is open a
 * silence of `REGISTER_TIMEOUT_MS` (30 s) before `hub.registered` drops it (the agent's liveness check, which every
 * frame from the hub re-arms). A refused upgrade rejects with `status` and, when the hub sent one, `retryAfterMs`.
 */
export function connectSimAgent({ wsUrl, agent, caPem, hubKeyPem, manifests, localAddress, stats }) {
  // The hub signs an Ed25519 agent's frames with its wire key and an RSA agent's with the CA key.
  const hubKeyText = agent.wire === 'ed25519' ? hubKeyPem : caPem;
  if (!hubKeyText) return Promise.reject(new Error(`${agent.name}: an Ed25519 agent needs the hub's wire key (hubKeyPem)`));
  const hubKey = publicKeyOf(hubKeyText);
  const signingKey = signingKeyOf(agent);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, {
      headers: { authorization: `Bearer ${agent.apiKey}` },
      localAddress,
      maxPayload: 1024 * 1024,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    const replay = new protocol.ReplayGuard();
    let heartbeat;
    let registered = false;
    const started = Date.now();
    const send = (type, payload) => ws.send(protocol.encodeMessage(type, payload, { agentId: agent.id, key: signingKey }));
    let timer;
    const armRegisterTimeout = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${agent.name}: not registered within ${REGISTER_TIMEOUT_MS / 1000} s of silence`));
      }, REGISTER_TIMEOUT_MS);
    };
    ws.once('open', armRegisterTimeout);
    let refused = false;
    ws.once('unexpected-response', (_request, response) => {
      refused = true;
      const error = new Error(`${agent.name}: Unexpected server response: ${response.statusCode}`);
      error.status = response.statusCode;
      if (response.statusCode === 503 || response.statusCode === 429) error.retryAfterMs = retryAfterMs(response.headers['retry-after']);
      reject(error);
      ws.terminate();
    });
    // The hub speaks first: its hello's nonce binds the registration to this socket (hub/src/gateway/registration.ts).
    const register = (nonce) =>
      send('agent.register', {
        challenge: { nonce, hubUrl: protocol.challengeHubUrl(wsUrl) },
        name: agent.name,
        agentVersion: '0.1.0',
        protocolVersion: protocol.PROTOCOL_VERSION,
        attestation: attestation(manifests),
        packs: manifests.map((m) => ({ name: m.name, version: m.version, state: 'active', manifest: m })),
        maxConcurrency: 64,
        isolation: 'bench simulation: answers at once, runs nothing',
      });
    ws.on('message', (data) => {
      if (heartbeat === undefined) armRegisterTimeout();
      let message;
      try {
        message = protocol.decodeMessage(data, { key: hubKey, replay, expectAgentId: agent.id });
      } catch {
        stats.badFrames += 1;
        return;
      }
      if (message.type === 'hub.hello') {
        register(message.payload.nonce);
      } else if (message.type === 'hub.registered') {
        registered = true;
        clearTimeout(timer);
        stats.heartbeatMs = message.payload.heartbeatIntervalMs;
        heartbeat = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) {
            send('agent.heartbeat', { uptimeS: (Date.now() - started) / 1000, running: 0, rssBytes: 40_000_000 });
            // As the real agent does (agent/src/runtime/connection.ts): a ping with each heartbeat, which the hub answers.
            ws.ping();
            stats.heartbeats += 1;
          }
        }, message.payload.heartbeatIntervalMs);
        heartbeat.unref();
        resolve({
          ws,
          close: () => {
            clearInterval(heartbeat);
            ws.terminate();
          },
        });
      } else if (message.type === 'hub.probe.request') {
        stats.probes += 1;
        send('agent.probe.result', {
          requestId: message.payload.requestId,
          status: 'ok',
          result: { ok: true },
          durationMs: 0,
          truncated: false,
        });
      } else if (message.type === 'reject') {
        stats.rejects += 1;
        if (stats.rejects <= 3) process.stderr.write(`bench: hub rejected ${agent.name}: ${JSON.stringify(message.payload)}\n`);
      }
    });
    ws.once('close', (code, reason) => {
      clearInterval(heartbeat);
      clearTimeout(timer);
      // A refused upgrade was reported by its answer already.
      if (refused) return;
      stats.closed += 1;
      // Closed after it registered (a session lost), as opposed to an attempt that failed.
      if (registered) stats.dropped = (stats.dropped ?? 0) + 1;
      if (stats.closed <= 3) process.stderr.write(`bench: ${agent.name} closed ${code} ${reason}\n`);
      reject(new Error(`${agent.name}: closed ${code} ${reason}`));
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Connects `agents` with at most `parallel` handshakes in flight, spread over 127.0.0.x source addresses from
 * `options.addressBase` (default 1): a bound source address has about 28,000 ephemeral ports, so processes that hold
 * many sockets each start on an address of their own. `refusals` counts the upgrades the hub refused and that were
 * tried again after its Retry-After.
 */
export async function connectAll(agents, options, parallel, deadline) {
  const base = options.addressBase ?? 1;
  const sessions = [];
  const failures = [];
  // Upgrades the hub's admission limit refused (503/429 with Retry-After): each is tried again after the delay the
  // hub asked for plus up to 1 s, as the real agent does (Backoff.afterRefusal), while the deadline allows.
  let refusals = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < agents.length && performance.now() < deadline) {
        const i = next++;
        for (;;) {
          try {
            sessions.push(
              await connectSimAgent({ ...options, agent: agents[i], localAddress: `127.0.0.${base + (Math.floor(i / 20_000) % 250)}` }),
            );
          } catch (error) {
            const wait = error.retryAfterMs === undefined ? undefined : error.retryAfterMs + Math.random() * 1000;
            if (wait !== undefined && performance.now() + wait < deadline) {
              refusals += 1;
              await new Promise((resolve) => setTimeout(resolve, wait));
              continue;
            }
            failures.push(error.message);
          }
          break;
        }
      }
    }),
  );
  return { sessions, failures, refusals };
}

const STAT_KEYS = ['heartbeats', 'probes', 'rejects', 'closed', 'dropped', 'badFrames'];

/**
 * Simulated agents in `processes` child processes, so that signing their
 * heartbeats does not run on the event loop of whoever measures probe
 * latency (the MCP caller stays in this process). Each agent's frames are
 * signed and verified as in-process; an agent's key pair is sent to the child
 * as PEM.
 */
export async function simFleet({ processes, keys, wsUrl, caPem, hubKeyPem, manifests, addressBase = 1 }) {
  const children = Array.from({ length: processes }, () =>
    fork(fileURLToPath(import.meta.url), ['--sim-fleet-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  let nextId = 0;
  const ask = (child, message) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const onMessage = (answer) => {
        if (answer.id !== id) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(answer);
      };
      const onExit = (code) => reject(new Error(`sim fleet child exited with ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...message, id });
    });
  const keyIndex = new Map(keys.map((pair, i) => [pair.publicKeyPem, i]));
  const pems = keys.map((pair) => ({ rsa: pair.privateKeyPem, ed25519: pair.ed25519?.privateKeyPem }));
  await Promise.all(
    children.map((child, c) => ask(child, { type: 'init', pems, wsUrl, caPem, hubKeyPem, manifests, addressBase: addressBase + c })),
  );
  return {
    /** Connects agents (split over the children); resolves with how many registered and the failures. */
    async connect(agents, parallel, budgetMs) {
      const plain = agents.map(({ id, name, apiKey, keys: pair, wire }) => ({
        id,
        name,
        apiKey,
        wire,
        key: keyIndex.get(pair.publicKeyPem),
      }));
      const answers = await Promise.all(
        children.map((child, c) =>
          ask(child, {
            type: 'connect',
            agents: plain.filter((_, i) => i % processes === c),
            parallel: Math.ceil(parallel / processes),
            budgetMs,
          }),
        ),
      );
      return {
        connected: answers.reduce((sum, a) => sum + a.connected, 0),
        failed: answers.reduce((sum, a) => sum + (a.failed ?? 0), 0),
        refused: answers.reduce((sum, a) => sum + (a.refused ?? 0), 0),
        failures: answers.flatMap((a) => a.failures),
      };
    },
    /** Counters summed over the children, plus the heartbeat interval the hub asked for. */
    async stats() {
      const answers = await Promise.all(children.map((child) => ask(child, { type: 'stats' })));
      const total = Object.fromEntries(STAT_KEYS.map((key) => [key, answers.reduce((sum, a) => sum + a.stats[key], 0)]));
      return { ...total, heartbeatMs: answers.find((a) => a.stats.heartbeatMs)?.stats.heartbeatMs };
    },
    /** Children's CPU time so far, in ms. */
    async cpuMs() {
      const answers = await Promise.all(children.map((child) => ask(child, { type: 'cpu' })));
      return answers.reduce((sum, a) => sum + a.cpuMs, 0);
    },
    async close() {
      await Promise.all(
        children.map((child) =>
          child.exitCode !== null
            ? undefined
            : ask(child, { type: 'close' })
                .catch(() => undefined)
                .finally(() => child.kill()),
        ),
      );
    },
  };
}

/** The child side of `simFleet`. */
function serveSimFleet() {
  const stats = Object.fromEntries(STAT_KEYS.map((key) => [key, 0]));
  const sessions = [];
  let options;
  let keys;
  process.on('message', async (message) => {
    const reply = (answer) => process.send({ ...answer, id: message.id });
    switch (message.type) {
      case 'init':
        keys = message.pems.map((pem) => ({
          privateKey: createPrivateKey(pem.rsa),
          ...(pem.ed25519 ? { ed25519: { privateKey: createPrivateKey(pem.ed25519) } } : {}),
        }));
        options = {
          wsUrl: message.wsUrl,
          caPem: message.caPem,
          hubKeyPem: message.hubKeyPem,
          manifests: message.manifests,
          stats,
          addressBase: message.addressBase,
        };
        return reply({});
      case 'connect': {
        const agents = message.agents.map((agent) => ({ ...agent, keys: keys[agent.key] }));
        const batch = await connectAll(agents, options, message.parallel, performance.now() + message.budgetMs);
        sessions.push(...batch.sessions);
        return reply({
          connected: batch.sessions.length,
          failed: batch.failures.length,
          refused: batch.refusals,
          failures: batch.failures.slice(0, 3),
        });
      }
      case 'stats':
        return reply({ stats });
      case 'cpu': {
        const used = process.cpuUsage();
        return reply({ cpuMs: (used.user + used.system) / 1000 });
      }
      case 'close':
        for (const session of sessions) session.close();
        reply({});
        return process.disconnect();
    }
  });
}

if (process.argv[2] === '--sim-fleet-child' && process.send) serveSimFleet();
