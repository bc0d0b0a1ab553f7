import { generateKeyPairSync, randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePack, defineProbe, SondeError, type Pack } from '@sonde/pack-sdk';
import { decodeMessage, encodeMessage, ProbeResultSchema, ReplayGuard, type ProbeRequest } from '@sonde/pack-sdk/protocol';
import { AuditRing } from '../audit/ring.js';
import { AgentConfigSchema } from '../config/schema.js';
import { ProbeExecutor } from './executor.js';
import type { LoadedPack } from './load-packs.js';
import { createAgentScrubber } from './scrub.js';

function packThrowing(thrown: () => unknown): Pack {
  return definePack({
    name: 'demo',
    version: '1.0.0',
    description: 'demo pack',
    permissions: {},
    probes: [
      defineProbe({
        name: 'secrets',
        description: 'Returns what a careless probe would.',
        params: z.object({}).strict(),
        result: z.object({ line: z.string(), nested: z.object({ password: z.string() }) }),
        handler: () => Promise.resolve({ line: 'connect password=hunter2 ok', nested: { password: 's3cretpw' } }),
      }),
      defineProbe({
        name: 'fails',
        description: 'Throws.',
        params: z.object({}).strict(),
        result: z.object({}),
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a pack may throw anything, a string too
        handler: () => Promise.reject(thrown()),
      }),
    ],
  });
}

function executorFor(pack: Pack): ProbeExecutor {
  const loaded = { pack, installed: { name: pack.manifest.name } } as unknown as LoadedPack;
  return new ProbeExecutor({
    packs: new Map([[pack.manifest.name, loaded]]),
    deniedPaths: [],
    scrub: createAgentScrubber(AgentConfigSchema.parse({})),
    audit: new AuditRing(100),
    maxConcurrency: 4,
    maxQueue: 4,
    log: pino({ level: 'silent' }),
    onSecurityEvent: () => undefined,
  });
}

const request = (probe: string): ProbeRequest => ({ requestId: randomUUID(), probe, params: {}, timeoutMs: 5_000 });

/** Signs the result as the agent's connection does (no parse before signing) and reads it as the hub does. */
function overTheWire(result: unknown): unknown {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const agentId = randomUUID();
  const frame = encodeMessage('agent.probe.result', result as never, { agentId, key: privateKey, validate: false });
  return decodeMessage(frame, { key: publicKey, replay: new ReplayGuard(), expectAgentId: agentId }).payload;
}

describe('ProbeExecutor', () => {
  it('scrubs a secret in a probe result before it is signed: it never leaves the agent', async () => {
    const result = await executorFor(packThrowing(() => new Error('x'))).handle(request('demo.secrets'));
    const sent = JSON.stringify(overTheWire(result));
    expect(sent).not.toContain('hunter2');
    expect(sent).not.toContain('s3cretpw');
    expect(result).toMatchObject({
      status: 'ok',
      result: { line: expect.stringContaining('[REDACTED]'), nested: { password: '[REDACTED]' } },
    });
  });

  it.each([
    ['a plain error', () => new Error('boom password=hunter2')],
    ['a thrown string', () => 'just a string'],
    ['an over-long error code', () => new SondeError('X'.repeat(65) as never, 'code too long')],
    ['an empty error code', () => new SondeError('' as never, 'no code')],
    ['a non-string code', () => new SondeError(42 as never, 'numeric code')],
    ['an over-long message', () => new SondeError('SONDE_ERR_PROBE_FAILED', 'm'.repeat(10_000))],
    ['a denial', () => new SondeError('SONDE_ERR_PERMISSION_DENIED', 'no')],
    ['a timeout', () => new SondeError('SONDE_ERR_TIMEOUT', 'slow')],
  ])('answers %s with a result the wire schema accepts, without a parse before signing', async (_label, thrown) => {
    const executor = executorFor(packThrowing(thrown));
    for (const probe of ['demo.fails', 'demo.secrets', 'nope.missing']) {
      const result = await executor.handle(request(probe));
      expect(ProbeResultSchema.safeParse(result).success).toBe(true);
      const received = overTheWire(result) as { error?: { message: string } };
      expect(JSON.stringify(received)).not.toContain('hunter2');
    }
  });

  it('keeps a pack error code within the wire bounds as it is, and replaces one outside them', async () => {
    const own = await executorFor(packThrowing(() => new SondeError('SONDE_ERR_INVALID_RESULT', 'bad'))).handle(request('demo.fails'));
    expect(own.error?.code).toBe('SONDE_ERR_INVALID_RESULT');
    const long = await executorFor(packThrowing(() => new SondeError('X'.repeat(65) as never, 'long'))).handle(request('demo.fails'));
    expect(long).toMatchObject({ status: 'error', error: { code: 'SONDE_ERR_PROBE_FAILED', message: 'long' } });
  });
});
