// CPU per call of the agent's own part of a probe call, without sockets, for two builds in ONE process (issue 26):
//
//   node bench/agent-pipeline-cpu.mjs --tree A --tree B [--calls 5000] [--rounds 3] [--validate-a] [--validate-b]
//
// For each call: decode a signed hub.probe.request (verify, replay check, zod), run an in-process no-op probe through
// that tree's ProbeExecutor (scrubber, caps, audit ring), sign the agent.probe.result (encodeMessage). The two trees'
// pipelines alternate call by call (the order flips every call), each timed with process.cpuUsage, so a loaded host's
// noise falls on both alike: on a shared 2-core host whole-process CPU per call moves ±30 % between minutes, the
// paired difference a few per cent. `--validate-a/-b` parses the result before signing, as main did before b4c03f5.
// Needs each tree built (`npm run build`: agent/dist/runtime, pack-sdk/dist).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    calls: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    'validate-a': { type: 'boolean', default: false },
    'validate-b': { type: 'boolean', default: false },
  },
});
const trees = (values.tree ?? []).map((tree) => path.resolve(tree));
if (trees.length !== 2) throw new Error('name two trees: --tree A --tree B');

async function pipeline(tree, validate) {
  const load = (file) => import(pathToFileURL(path.join(tree, file)).href);
  const sdk = await load('pack-sdk/dist/index.js');
  const protocol = await load('pack-sdk/dist/protocol/index.js');
  const { ProbeExecutor } = await load('agent/dist/runtime/executor.js');
  const { AuditRing } = await load('agent/dist/audit/ring.js');
  const { createAgentScrubber } = await load('agent/dist/runtime/scrub.js');
  const { AgentConfigSchema } = await load('agent/dist/config/schema.js');
  const { z } = await load('node_modules/zod/index.js');
  const pack = sdk.definePack({
    name: 'bench',
    version: '1.0.0',
    description: 'bench',
    permissions: {},
    probes: [
      sdk.defineProbe({
        name: 'noop',
        description: 'Does nothing.',
        params: z.object({}).strict(),
        result: z.object({ ok: z.boolean() }),
        handler: () => Promise.resolve({ ok: true }),
      }),
    ],
  });
  const silent = { warn() {}, info() {}, debug() {}, error() {} };
  const executor = new ProbeExecutor({
    packs: new Map([['bench', { pack, installed: {} }]]),
    deniedPaths: [],
    scrub: createAgentScrubber(AgentConfigSchema.parse({})),
    audit: new AuditRing(1000),
    maxConcurrency: 8,
    maxQueue: 8,
    log: silent,
    onSecurityEvent() {},
  });
  const hub = generateKeyPairSync('ed25519');
  const agent = generateKeyPairSync('ed25519');
  const agentId = randomUUID();
  const replay = new protocol.ReplayGuard();
  return async () => {
    const request = { requestId: randomUUID(), probe: 'bench.noop', params: {}, timeoutMs: 5000 };
    const frame = protocol.encodeMessage('hub.probe.request', request, { agentId, key: hub.privateKey, validate: false });
    const started = process.cpuUsage();
    const message = protocol.decodeMessage(frame, { key: hub.publicKey, replay });
    const result = await executor.handle(message.payload);
    const sent = protocol.encodeMessage('agent.probe.result', result, { agentId, key: agent.privateKey, validate });
    const used = process.cpuUsage(started);
    if (!sent.includes('"status":"ok"')) throw new Error(`the no-op did not answer ok: ${sent.slice(0, 200)}`);
    return used.user + used.system;
  };
}

const a = await pipeline(trees[0], values['validate-a']);
const b = await pipeline(trees[1], values['validate-b']);
for (let i = 0; i < 3000; i++) {
  await a();
  await b();
}
const calls = Number(values.calls);
for (let round = 1; round <= Number(values.rounds); round++) {
  let usA = 0;
  let usB = 0;
  for (let i = 0; i < calls; i++) {
    if (i % 2) {
      usA += await a();
      usB += await b();
    } else {
      usB += await b();
      usA += await a();
    }
  }
  console.log(
    `round ${round}: ${path.basename(trees[0])} ${(usA / calls).toFixed(1)} µs, ${path.basename(trees[1])} ${(usB / calls).toFixed(1)} µs per call (${((100 * (usB - usA)) / usA).toFixed(1)} %)`,
  );
}
