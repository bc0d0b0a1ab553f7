import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePack, defineProbe } from '../manifest/define.js';
import { PackManifestSchema } from '../manifest/schema.js';
import type { ProbeContext } from './context.js';
import { runProbe } from './run-probe.js';

const noContext = (signal: AbortSignal): ProbeContext => ({
  signal,
  credentials: {},
  endpoint: undefined,
  exec: () => Promise.reject(new Error('no exec')),
  readFile: () => Promise.reject(new Error('no files')),
  listDir: () => Promise.reject(new Error('no dirs')),
  http: () => Promise.reject(new Error('no http')),
});

function packWith(
  handler: (params: { path: string; lines: number }, ctx: ProbeContext) => Promise<unknown>,
  extra: Record<string, unknown> = {},
) {
  return definePack({
    name: 'demo',
    version: '1.0.0',
    description: 'demo pack',
    permissions: {},
    probes: [
      defineProbe({
        name: 'log.tail',
        description: 'Tails a log.',
        params: z.object({ path: z.string().startsWith('/var/log/'), lines: z.number().int().min(1).max(500).default(50) }).strict(),
        result: z.object({ lines: z.array(z.string()) }),
        handler: handler as never,
        ...extra,
      }),
    ],
  });
}

const code = (c: string) => expect.objectContaining({ code: c });

describe('runProbe', () => {
  it.each([
    ['a missing field', {}],
    ['a wrong type', { path: '/var/log/syslog', lines: '5' }],
    ['an out-of-range number', { path: '/var/log/syslog', lines: 10_000 }],
    ['a path outside the schema', { path: '/etc/shadow' }],
    ['an unknown field', { path: '/var/log/syslog', command: 'rm -rf /' }],
    ['a non-object', 'id; rm -rf /'],
  ])('never calls the handler with %s', async (_label, params) => {
    const handler = vi.fn(() => Promise.resolve({ lines: [] }));
    await expect(runProbe(packWith(handler), 'log.tail', params, noContext)).rejects.toThrow(code('SONDE_ERR_INVALID_PARAMS'));
    expect(handler).not.toHaveBeenCalled();
  });

  it('aborts the signal of each run when it ends, with one frozen "probe finished" reason no handler can change', async () => {
    const signals: AbortSignal[] = [];
    const handler = vi.fn((_params: unknown, ctx: ProbeContext) => {
      signals.push(ctx.signal);
      return Promise.resolve({ lines: [] });
    });
    await runProbe(packWith(handler), 'log.tail', { path: '/var/log/syslog' }, noContext);
    await runProbe(packWith(handler), 'log.tail', { path: '/var/log/syslog' }, noContext);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    const reason = signals[0].reason as Error & { code: string };
    expect(reason).toMatchObject({ code: 'SONDE_ERR_PROBE_FAILED', message: 'probe finished' });
    expect(signals[1].reason).toBe(reason);
    expect(Object.isFrozen(reason)).toBe(true);
    // Modules are strict: writing to a frozen object throws.
    expect(() => {
      reason.message = 'changed';
    }).toThrow(TypeError);
  });

  it('passes parsed params (with defaults) to the handler', async () => {
    const handler = vi.fn(() => Promise.resolve({ lines: ['a'] }));
    const outcome = await runProbe(packWith(handler), 'log.tail', { path: '/var/log/syslog' }, noContext);
    expect(handler).toHaveBeenCalledWith({ path: '/var/log/syslog', lines: 50 }, expect.anything());
    expect(outcome.result).toEqual({ lines: ['a'] });
  });

  it('refuses a probe whose capability is not observe, before validating or running', async () => {
    const handler = vi.fn(() => Promise.resolve({ lines: [] }));
    const pack = packWith(handler, { capability: 'mutate' });
    await expect(runProbe(pack, 'log.tail', { path: '/var/log/x' }, noContext)).rejects.toThrow(code('SONDE_ERR_CAPABILITY_REFUSED'));
    expect(handler).not.toHaveBeenCalled();
  });

  it('times out and aborts ctx.signal', async () => {
    let seen: AbortSignal | undefined;
    const pack = packWith(
      (_params, ctx) => {
        seen = ctx.signal;
        return new Promise(() => undefined);
      },
      { timeoutMs: 150 },
    );
    const started = Date.now();
    await expect(runProbe(pack, 'log.tail', { path: '/var/log/x' }, noContext)).rejects.toThrow(code('SONDE_ERR_TIMEOUT'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toEqual(code('SONDE_ERR_TIMEOUT'));
  });

  it('lets the caller ask for less time, never more', async () => {
    const pack = packWith(() => new Promise(() => undefined), { timeoutMs: 200 });
    const started = Date.now();
    await expect(runProbe(pack, 'log.tail', { path: '/var/log/x' }, noContext, { timeoutMs: 60_000 })).rejects.toThrow(
      code('SONDE_ERR_TIMEOUT'),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops when the caller aborts, even before start', async () => {
    const controller = new AbortController();
    controller.abort();
    const handler = vi.fn(() => new Promise(() => undefined));
    await expect(runProbe(packWith(handler), 'log.tail', { path: '/var/log/x' }, noContext, { signal: controller.signal })).rejects.toThrow(
      code('SONDE_ERR_PROBE_FAILED'),
    );
  });

  it('refuses a result that does not match the result schema', async () => {
    const pack = packWith(() => Promise.resolve({ lines: 'not an array' }));
    await expect(runProbe(pack, 'log.tail', { path: '/var/log/x' }, noContext)).rejects.toThrow(code('SONDE_ERR_INVALID_RESULT'));
  });

  it('wraps a handler crash in SONDE_ERR_PROBE_FAILED and keeps SondeErrors as they are', async () => {
    await expect(
      runProbe(
        packWith(() => Promise.reject(new TypeError('boom'))),
        'log.tail',
        { path: '/var/log/x' },
        noContext,
      ),
    ).rejects.toThrow(code('SONDE_ERR_PROBE_FAILED'));
    await expect(
      runProbe(
        packWith((_p, ctx) => ctx.exec('x', []) as never),
        'log.tail',
        { path: '/var/log/x' },
        noContext,
      ),
    ).rejects.toThrow(/no exec/);
  });

  it('refuses an unknown probe', async () => {
    await expect(
      runProbe(
        packWith(() => Promise.resolve({ lines: [] })),
        'nope',
        {},
        noContext,
      ),
    ).rejects.toThrow(code('SONDE_ERR_UNKNOWN_PROBE'));
  });
});

describe('definePack', () => {
  const probe = (name: string) =>
    defineProbe({
      name,
      description: 'x',
      params: z.object({}),
      result: z.object({ ok: z.boolean() }),
      handler: () => Promise.resolve({ ok: true }),
    });
  const base = { name: 'demo', version: '1.0.0', description: 'demo', permissions: {} };

  it('refuses a duplicate probe name', () => {
    expect(() => definePack({ ...base, probes: [probe('a'), probe('a')] })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_INVALID_MANIFEST', message: expect.stringMatching(/defined twice/) }),
    );
  });

  it('refuses a runbook naming an unknown probe', () => {
    expect(() =>
      definePack({
        ...base,
        probes: [probe('a')],
        runbooks: [{ category: 'health', description: 'x', steps: [{ probe: 'b' }], evaluate: () => [] }],
      }),
    ).toThrow(expect.objectContaining({ code: 'SONDE_ERR_INVALID_MANIFEST', message: expect.stringMatching(/unknown probe b/) }));
  });

  it.each([
    ['a bad pack name', { name: 'Demo Pack' }],
    ['a non-semver version', { version: 'v1' }],
    ['a relative file glob', { permissions: { files: ['var/log/*'] } }],
    ['a binary with a shell in it', { permissions: { commands: [{ binary: 'sh -c', args: [['x']] }] } }],
  ])('refuses %s', (_label, override) => {
    expect(() => definePack({ ...base, probes: [probe('a')], ...override })).toThrow(
      expect.objectContaining({ code: 'SONDE_ERR_INVALID_MANIFEST' }),
    );
  });

  it('refuses a schema that cannot become JSON Schema when its JSON Schema is made (first read, as sonde-pack manifest does)', () => {
    const bad = defineProbe({
      name: 'a',
      description: 'x',
      params: z.object({ when: z.date() }),
      result: z.object({}),
      handler: () => Promise.resolve({}),
    });
    const pack = definePack({ ...base, probes: [bad] });
    expect(() => JSON.stringify(pack.manifest)).toThrow(expect.objectContaining({ code: 'SONDE_ERR_INVALID_MANIFEST' }));
    expect(() => pack.manifest.probes[0].params).toThrow(/params: schema cannot be expressed as JSON Schema/);
  });

  it('derives a manifest that validates, with JSON Schemas for params and results', () => {
    const pack = packWith(() => Promise.resolve({ lines: [] }));
    expect(PackManifestSchema.safeParse(JSON.parse(JSON.stringify(pack.manifest))).success).toBe(true);
    const [manifestProbe] = pack.manifest.probes;
    expect(manifestProbe.params).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, lines: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
      required: ['path'],
      additionalProperties: false,
    });
    expect(manifestProbe.result).toMatchObject({ type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } } } });
    expect(manifestProbe.timeoutMs).toBe(30_000);
    expect(manifestProbe.maxOutputBytes).toBe(1024 * 1024);
    expect(manifestProbe.capability).toBe('observe');
  });
});
