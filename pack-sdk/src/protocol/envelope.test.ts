import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { decodeMessage, encodeMessage, signEnvelope, type Envelope } from './envelope.js';
import { ReplayGuard } from './replay.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, REPLAY_WINDOW_MS } from './version.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const agentId = randomUUID();
const NOW = 1_800_000_000_000;
const now = (): number => NOW;

const heartbeat = { uptimeS: 10, running: 0, rssBytes: 1000 };

function frame(key = rsa.privateKey, at = NOW): string {
  return encodeMessage('agent.heartbeat', heartbeat, { agentId, key, now: () => at });
}

function decode(raw: string | Buffer, options: Partial<Parameters<typeof decodeMessage>[1]> = {}) {
  return decodeMessage(raw, { key: rsa.publicKey, replay: new ReplayGuard(), now, ...options });
}

function tamper(raw: string, change: (envelope: Envelope) => void): string {
  const envelope = JSON.parse(raw) as Envelope;
  change(envelope);
  return JSON.stringify(envelope);
}

const code = (c: string) => expect.objectContaining({ code: c });

describe('envelope signing', () => {
  it('round-trips a signed message', () => {
    const decoded = decode(frame());
    expect(decoded.type).toBe('agent.heartbeat');
    expect(decoded.payload).toEqual(heartbeat);
    expect(decoded.envelope.agentId).toBe(agentId);
  });

  it.each([
    ['payload', (e: Envelope) => ((e.payload as typeof heartbeat).running = 5)],
    ['type', (e: Envelope) => (e.type = 'agent.packs')],
    ['ts', (e: Envelope) => (e.ts += 1)],
    ['agentId', (e: Envelope) => (e.agentId = randomUUID())],
    ['id', (e: Envelope) => (e.id = randomUUID())],
  ])('rejects a tampered %s', (_field, change) => {
    expect(() => decode(tamper(frame(), change))).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });

  it('rejects an unsigned envelope', () => {
    expect(() => decode(tamper(frame(), (e) => delete e.sig))).toThrow(code('SONDE_ERR_UNSIGNED'));
    expect(() => decode(tamper(frame(), (e) => (e.sig = '')))).toThrow(code('SONDE_ERR_UNSIGNED'));
  });

  it('rejects a garbage signature and a signature from another key', () => {
    expect(() => decode(tamper(frame(), (e) => (e.sig = 'AAAA')))).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => decode(frame(other.privateKey))).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });

  it('rejects stale and future timestamps', () => {
    expect(() => decode(frame(rsa.privateKey, NOW - REPLAY_WINDOW_MS - 1))).toThrow(code('SONDE_ERR_STALE'));
    expect(() => decode(frame(rsa.privateKey, NOW + REPLAY_WINDOW_MS + 1))).toThrow(code('SONDE_ERR_STALE'));
    expect(decode(frame(rsa.privateKey, NOW - REPLAY_WINDOW_MS + 1000)).type).toBe('agent.heartbeat');
  });

  it('rejects a replayed id', () => {
    const replay = new ReplayGuard();
    const raw = frame();
    decode(raw, { replay });
    expect(() => decode(raw, { replay })).toThrow(code('SONDE_ERR_REPLAYED'));
  });

  it('names both versions on a protocol mismatch', () => {
    const raw = JSON.stringify(
      signEnvelope(
        { v: PROTOCOL_VERSION + 1, id: randomUUID(), type: 'agent.heartbeat', ts: NOW, agentId, payload: heartbeat },
        rsa.privateKey,
      ),
    );
    expect(() => decode(raw)).toThrow(
      expect.objectContaining({
        code: 'SONDE_ERR_PROTOCOL_VERSION',
        message: expect.stringMatching(new RegExp(`${PROTOCOL_VERSION + 1}.*${PROTOCOL_VERSION}`)),
      }),
    );
  });

  it('rejects an oversize frame before parsing it', () => {
    const big = Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20);
    expect(() => decode(big)).toThrow(code('SONDE_ERR_BAD_FRAME'));
    expect(() => decode(tamper(frame(), (e) => ((e.payload as Record<string, unknown>).pad = 'x'.repeat(MAX_FRAME_BYTES))))).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_BAD_FRAME', message: expect.stringMatching(/exceeds/) }),
    );
  });

  it('rejects an unknown type and an invalid payload even when signed', () => {
    const sign = (type: string, payload: unknown) =>
      JSON.stringify(signEnvelope({ v: PROTOCOL_VERSION, id: randomUUID(), type, ts: NOW, agentId, payload }, rsa.privateKey));
    expect(() => decode(sign('agent.shell', { cmd: 'id' }))).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_BAD_FRAME', message: expect.stringMatching(/unknown message type/) }),
    );
    expect(() => decode(sign('agent.heartbeat', { uptimeS: -1 }))).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_BAD_FRAME', message: expect.stringMatching(/invalid agent.heartbeat payload/) }),
    );
  });

  it('rejects frames that are not JSON or not envelopes', () => {
    expect(() => decode('not json')).toThrow(code('SONDE_ERR_BAD_FRAME'));
    expect(() => decode(JSON.stringify({ hello: 1 }))).toThrow(code('SONDE_ERR_BAD_FRAME'));
    expect(() => decode(tamper(frame(), (e) => ((e as unknown as Record<string, unknown>).extra = 1)))).toThrow(
      code('SONDE_ERR_BAD_FRAME'),
    );
  });

  it('binds the agent id to the connection', () => {
    expect(() => decode(frame(), { expectAgentId: randomUUID() })).toThrow(code('SONDE_ERR_AGENT_MISMATCH'));
  });

  it('refuses to encode an invalid payload', () => {
    expect(() => encodeMessage('agent.heartbeat', { uptimeS: -1, running: 0, rssBytes: 0 }, { agentId, key: rsa.privateKey })).toThrow();
  });

  it('signs a payload unchecked with validate: false, and the receiver still refuses an invalid one', () => {
    const send = (payload: unknown, key = ed.privateKey) =>
      encodeMessage('agent.heartbeat', payload as typeof heartbeat, { agentId, key, now, validate: false });
    // Valid: the same frame a validating sender makes, and it decodes.
    expect(decode(send(heartbeat), { key: ed.publicKey }).payload).toEqual(heartbeat);
    // Invalid values, an extra member (strict schema), a missing one: signed, so only the receiver's parse stops them.
    for (const payload of [
      { ...heartbeat, uptimeS: -1 },
      { ...heartbeat, shell: 'id' },
      { uptimeS: 1, running: 0 },
    ]) {
      const raw = send(payload);
      expect(JSON.parse(raw)).toMatchObject({ payload, sig: expect.any(String) });
      expect(() => decode(raw, { key: ed.publicKey })).toThrow(
        expect.objectContaining({ code: 'SONDE_ERR_BAD_FRAME', message: expect.stringMatching(/invalid agent.heartbeat payload/) }),
      );
    }
    // RSA senders too.
    expect(() => decode(send({ ...heartbeat, running: 0.5 }, rsa.privateKey))).toThrow(code('SONDE_ERR_BAD_FRAME'));
  });

  it('signs and verifies with RSA-2048 and Ed25519 keys, PEM or KeyObject', () => {
    const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const rsaPub = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(decode(frame(rsa.privateKey), { key: rsaPub }).type).toBe('agent.heartbeat');
    expect(
      decodeMessage(encodeMessage('agent.heartbeat', heartbeat, { agentId, key: rsaPem, now }), {
        key: rsa.publicKey,
        replay: new ReplayGuard(),
        now,
      }).type,
    ).toBe('agent.heartbeat');
    expect(decode(frame(ed.privateKey), { key: ed.publicKey }).type).toBe('agent.heartbeat');
    expect(() => decode(frame(ed.privateKey), { key: rsa.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => decode(frame(rsa.privateKey), { key: ed.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });
});

describe('the frame encodeMessage writes', () => {
  it('is the signed canonical JSON with sig appended: the envelope signEnvelope makes, serialised once', () => {
    for (const key of [ed.privateKey, rsa.privateKey]) {
      const raw = frame(key);
      const { sig, ...unsigned } = JSON.parse(raw) as Envelope;
      expect(raw).toBe(`${canonicalJson(unsigned).slice(0, -1)},"sig":${JSON.stringify(sig)}}`);
      // Ed25519 is deterministic: the same envelope signed the long way has the same signature.
      if (key === ed.privateKey) expect(signEnvelope(unsigned, key).sig).toBe(sig);
      expect(decode(raw, { key: key === ed.privateKey ? ed.publicKey : rsa.publicKey }).payload).toEqual(heartbeat);
    }
  });
});

describe('the algorithm field (no downgrade)', () => {
  it('marks Ed25519 frames ed25519 and leaves RSA frames in their pre-Ed25519 form', () => {
    expect((JSON.parse(frame(ed.privateKey)) as Envelope).alg).toBe('ed25519');
    const legacy = JSON.parse(frame(rsa.privateKey)) as Envelope;
    expect('alg' in legacy).toBe(false);
    // A pre-change RSA peer's frame (no alg) still verifies, and so does one that names rsa-sha256 explicitly.
    expect(decode(frame(rsa.privateKey)).type).toBe('agent.heartbeat');
    const explicit = signEnvelope(
      { v: PROTOCOL_VERSION, id: randomUUID(), type: 'agent.heartbeat', ts: NOW, agentId, payload: heartbeat, alg: 'rsa-sha256' },
      rsa.privateKey,
    );
    expect(decode(JSON.stringify(explicit)).type).toBe('agent.heartbeat');
  });

  it('refuses a frame claiming rsa-sha256 (or nothing) where the sender is bound to Ed25519', () => {
    // An attacker holding some RSA key, or a captured RSA frame, cannot talk to an Ed25519-bound peer.
    const rsaFrame = frame(rsa.privateKey);
    expect(() => decode(rsaFrame, { key: ed.publicKey })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_BAD_SIGNATURE', message: expect.stringMatching(/signed as rsa-sha256.*ed25519/) }),
    );
    const claimsRsa = tamper(frame(ed.privateKey), (e) => (e.alg = 'rsa-sha256'));
    expect(() => decode(claimsRsa, { key: ed.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    const dropsAlg = tamper(frame(ed.privateKey), (e) => delete e.alg);
    expect(() => decode(dropsAlg, { key: ed.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });

  it('refuses a frame claiming ed25519 where the sender is bound to RSA, and an unknown algorithm', () => {
    expect(() => decode(frame(ed.privateKey), { key: rsa.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => decode(tamper(frame(rsa.privateKey), (e) => (e.alg = 'ed25519')))).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
    expect(() => decode(tamper(frame(rsa.privateKey), (e) => ((e as Record<string, unknown>).alg = 'none')))).toThrow(
      code('SONDE_ERR_BAD_FRAME'),
    );
  });

  it('refuses to sign with a key type the protocol does not use', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => frame(ec.privateKey)).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });

  it('rejects a replayed and a wrongly keyed Ed25519 frame', () => {
    const replay = new ReplayGuard();
    const raw = frame(ed.privateKey);
    expect(decode(raw, { key: ed.publicKey, replay }).type).toBe('agent.heartbeat');
    expect(() => decode(raw, { key: ed.publicKey, replay })).toThrow(code('SONDE_ERR_REPLAYED'));
    const stranger = generateKeyPairSync('ed25519');
    expect(() => decode(frame(stranger.privateKey), { key: ed.publicKey })).toThrow(code('SONDE_ERR_BAD_SIGNATURE'));
  });
});

describe('canonical JSON', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'é' } })).toBe(
      canonicalJson({ a: { c: 'é', d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2, u: undefined })).toBe('{"a":2,"b":1}');
  });

  it('refuses cycles and non-finite numbers', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });

  it('gives a signature that survives re-serialisation with other key order', () => {
    const raw = frame();
    const envelope = JSON.parse(raw) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(envelope).reverse());
    expect(decode(JSON.stringify(reordered)).type).toBe('agent.heartbeat');
  });
});
