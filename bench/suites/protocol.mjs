// Cost of one signed protocol message: encode (validate + canonicalise + sign)
// and decode (parse + verify + replay check), for the RSA-2048 keys the
// security model prescribes and for Ed25519, the alternative issue 13 asks about;
// and canonical JSON alone of a register-sized payload (7 pack manifests), the
// largest frame an agent signs.
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { summarize, timeCalls, row } from '../lib.mjs';

const protocol = await import(pathToFileURL(path.resolve(import.meta.dirname, '../../pack-sdk/dist/protocol/index.js')).href);

export async function run({ smoke }) {
  const n = smoke ? 200 : 5000;
  const agentId = randomUUID();
  const payload = {
    requestId: randomUUID(),
    status: 'ok',
    result: { filesystems: [{ mount: '/', usedPct: 41, sizeKb: 102400000 }] },
    durationMs: 3.2,
    truncated: false,
  };
  const rows = [];
  for (const [label, type, opts] of [
    ['rsa-2048', 'rsa', { modulusLength: 2048 }],
    ['ed25519', 'ed25519', {}],
  ]) {
    const { privateKey, publicKey } = generateKeyPairSync(type, opts);
    const frames = [];
    const enc = summarize(
      await timeCalls(n, () => frames.push(protocol.encodeMessage('agent.probe.result', payload, { agentId, key: privateKey }))),
    );
    const guard = new protocol.ReplayGuard(60_000, 10_000_000);
    let i = 0;
    const dec = summarize(
      await timeCalls(
        Math.min(n, frames.length),
        () => protocol.decodeMessage(frames[i++], { key: publicKey, replay: guard, expectAgentId: agentId }),
        0,
      ),
    );
    rows.push(row(`${label} encode+sign p50`, enc.p50 * 1000, 'µs'));
    rows.push(row(`${label} decode+verify p50`, dec.p50 * 1000, 'µs'));
  }
  const register = registerLike();
  const canon = summarize(await timeCalls(smoke ? 20 : 300, () => protocol.canonicalJson(register), smoke ? 2 : 30));
  rows.push(
    row(`canonical JSON of a ${Math.round(protocol.canonicalJson(register).length / 1024)} KB register payload p50`, canon.p50, 'ms'),
  );
  return rows;
}

/** An `agent.register` payload of the size real agents send: the manifests of 7 packs of this tree and a file map. */
function registerLike() {
  const packs = ['system', 'systemd', 'docker', 'nginx', 'postgres', 'redis', 'mysql'].map((name) => {
    const manifest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, `../../packs/${name}/sonde-pack.json`), 'utf8'));
    return { name, version: manifest.version, state: 'active', manifest };
  });
  const files = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`dist/chunk-${i}.js`, 'a'.repeat(64)]));
  return {
    name: 'web-01',
    agentVersion: '0.9.0',
    protocolVersion: 1,
    attestation: { agentVersion: '0.9.0', os: { platform: 'linux', release: '6.1.0', arch: 'x64' }, files },
    packs,
    maxConcurrency: 8,
  };
}
