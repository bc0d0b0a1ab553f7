import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermissionsSchema, createHostContext, definePack, defineProbe, runProbe, type Pack } from '@sonde/pack-sdk';
import { runProbeWithFixtures } from '@sonde/pack-sdk/testing';

/**
 * procfs and sysfs files report a size of 0 (sysfs: a page) whatever they hold.
 * The test harness serves fixture text, so a host that reads `stat.size` bytes
 * passes every harness test and returns '' on a real machine. Each probe here
 * runs both ways and must give the same kind of answer.
 */

const LoadSchema = z.object({ one: z.number(), five: z.number(), fifteen: z.number() });

const loadAverage = defineProbe({
  name: 'load.average',
  description: 'Load averages from /proc/loadavg.',
  params: z.object({}).strict(),
  result: LoadSchema,
  async handler(_params, ctx) {
    const { content } = await ctx.readFile('/proc/loadavg');
    const [one, five, fifteen] = content.trim().split(/\s+/).map(Number);
    return { one, five, fifteen };
  },
});

const statusTail = defineProbe({
  name: 'status.tail',
  description: 'The last bytes of /proc/self/status.',
  params: z.object({ maxBytes: z.number().int().positive() }).strict(),
  result: z.object({ content: z.string(), truncated: z.boolean() }),
  async handler({ maxBytes }, ctx) {
    const { content, truncated } = await ctx.readFile('/proc/self/status', { tail: true, maxBytes });
    return { content, truncated };
  },
});

const pack: Pack = definePack({
  name: 'pseudo',
  version: '1.0.0',
  description: 'Reads pseudo-files.',
  permissions: { files: ['/proc/loadavg', '/proc/self/status', '/proc/*/status', '/sys/kernel/**', '/sys/class/**'] },
  probes: [loadAverage, statusTail],
});

function realHost() {
  return (signal: AbortSignal) => createHostContext({ permissions: PermissionsSchema.parse(pack.manifest.permissions), signal });
}

describe('the same probe under the harness and on the real host', () => {
  it('parses /proc/loadavg both ways', async () => {
    const harness = await runProbeWithFixtures(pack, 'load.average', {}, { files: { '/proc/loadavg': '0.52 0.58 0.59 1/977 12345\n' } });
    expect(harness.result).toEqual({ one: 0.52, five: 0.58, fifteen: 0.59 });
    // On the host: numbers, not NaN from an empty read (the schema would refuse NaN as "expected number").
    const host = await runProbe(pack, 'load.average', {}, realHost());
    expect(LoadSchema.parse(host.result)).toEqual({
      one: expect.any(Number) as number,
      five: expect.any(Number) as number,
      fifteen: expect.any(Number) as number,
    });
  });

  it('keeps the tail of a procfs file within the cap, both ways', async () => {
    const fixture = 'Name:\tnode\nState:\tR (running)\nThreads:\t11\nvoluntary_ctxt_switches:\t40\nnonvoluntary_ctxt_switches:\t7\n';
    const harness = await runProbeWithFixtures<{ content: string; truncated: boolean }>(
      pack,
      'status.tail',
      { maxBytes: 64 },
      { files: { '/proc/self/status': fixture } },
    );
    expect(harness.result.truncated).toBe(true);
    expect(harness.result.content).toContain('nonvoluntary_ctxt_switches');
    const host = await runProbe(pack, 'status.tail', { maxBytes: 64 }, realHost());
    const result = host.result as { content: string; truncated: boolean };
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.content)).toBeLessThanOrEqual(64);
    expect(result.content).toContain('nonvoluntary_ctxt_switches');
  });
});

describe('host readFile on pseudo-files', () => {
  const ctx = createHostContext({
    permissions: PermissionsSchema.parse(pack.manifest.permissions),
    signal: new AbortController().signal,
  });

  it('reads a procfs file to its end', async () => {
    const read = await ctx.readFile('/proc/self/status');
    expect(read.content).toMatch(/^Name:\t/);
    expect(read.content).toMatch(/\n$/);
    expect(read.truncated).toBe(false);
    expect(read.size).toBe(Buffer.byteLength(read.content));
  });

  it('stops at the byte cap and says it truncated', async () => {
    const read = await ctx.readFile('/proc/self/status', { maxBytes: 10 });
    expect(Buffer.byteLength(read.content)).toBe(10);
    expect(read.content.startsWith('Name:\t')).toBe(true);
    expect(read.truncated).toBe(true);
  });

  const sysfsFile = ['/sys/kernel/mm/transparent_hugepage/enabled', '/sys/class/net/lo/mtu'].find((file) => existsSync(file));
  it.skipIf(!sysfsFile)('reads a sysfs attribute whose stat size is a page (no sysfs file readable here)', async () => {
    const read = await ctx.readFile(sysfsFile!);
    expect(read.content.trim().length).toBeGreaterThan(0);
    const tail = await ctx.readFile(sysfsFile!, { tail: true, maxBytes: 4 });
    expect(Buffer.byteLength(tail.content)).toBeLessThanOrEqual(4);
  });
});
