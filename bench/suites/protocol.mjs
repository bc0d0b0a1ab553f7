// Cost of one signed protocol message: encode (validate + canonicalise + sign)
// and decode (parse + verify + replay check), for the RSA-2048 keys the
// security model prescribes and for Ed25519, the alternative issue 13 asks about.
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
  return rows;
}
