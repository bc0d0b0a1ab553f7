import { z } from 'zod';
import { definePack, defineProbe, type PackManifest } from '@sonde/pack-sdk';

const noop = () => Promise.resolve({}) as never;

/** A small system-like pack: a status probe, a log probe, a huge-output probe and a slow one, plus a health runbook. */
export const systemManifest: PackManifest = definePack({
  name: 'system',
  version: '1.2.0',
  description: 'Host basics: disks, logs.',
  permissions: {},
  probes: [
    defineProbe({
      name: 'disk.usage',
      description: 'Disk usage per mounted filesystem, in percent. Use it first when a host misbehaves.',
      params: z.object({ mount: z.string().max(200).optional() }).strict(),
      result: z.object({ filesystems: z.array(z.object({ mount: z.string(), usedPct: z.number() })) }),
      handler: noop,
    }),
    defineProbe({
      name: 'logs.tail',
      description: 'Last lines of a log file, newest last.',
      params: z.object({ path: z.string().default('/var/log/syslog'), lines: z.number().int().min(1).max(5000).optional() }).strict(),
      result: z.object({ lines: z.array(z.string()) }),
      handler: noop,
    }),
    defineProbe({
      name: 'big.output',
      description: 'Returns a lot of data (for budget tests).',
      params: z.object({ limit: z.number().int().optional(), offset: z.number().int().optional() }).strict(),
      result: z.object({ items: z.array(z.string()) }),
      handler: noop,
    }),
    defineProbe({
      name: 'slow.probe',
      description: 'Never answers in time (for deadline tests).',
      params: z.object({}).strict(),
      result: z.object({ done: z.boolean() }),
      handler: noop,
    }),
  ],
  runbooks: [{ category: 'health', description: 'Basic host health.', steps: [{ probe: 'disk.usage' }], evaluate: () => [] }],
}).manifest;

export const postgresManifest: PackManifest = definePack({
  name: 'postgres',
  version: '0.3.0',
  description: 'PostgreSQL server state.',
  permissions: {},
  probes: [
    defineProbe({
      name: 'connections',
      description: 'Open connections by state.',
      openWorld: true,
      params: z.object({}).strict(),
      result: z.object({ count: z.number() }),
      handler: noop,
    }),
  ],
  runbooks: [{ category: 'health', description: 'Connection health.', steps: [{ probe: 'connections' }], evaluate: () => [] }],
}).manifest;

/** `count` extra probes in one pack, to push a key's tool list over the client cap. */
export function widePackManifest(count: number): PackManifest {
  return definePack({
    name: 'wide',
    version: '1.0.0',
    description: 'Many probes.',
    permissions: {},
    probes: Array.from({ length: count }, (_, i) =>
      defineProbe({
        name: `metric${i}`,
        description: `Metric number ${i}.`,
        params: z.object({}).strict(),
        result: z.object({ value: z.number() }),
        handler: noop,
      }),
    ),
  }).manifest;
}
