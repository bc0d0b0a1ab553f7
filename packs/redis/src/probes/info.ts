import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { ConnectionParamsSchema, INFO_SECTIONS, redis } from '../connection.js';
import { InfoSectionsSchema, num, parseInfo, str } from '../parsers/info.js';

export const info = defineProbe({
  name: 'info',
  description:
    'INFO parsed into sections of typed fields, plus the headline facts: version, mode, role, uptime, clients, memory, ops/s and rejected connections.',
  params: ConnectionParamsSchema.extend({ section: z.enum(INFO_SECTIONS).default('default') }),
  result: z.object({
    version: z.string().nullable(),
    mode: z.string().nullable(),
    role: z.string().nullable(),
    uptimeSeconds: z.number().nullable(),
    connectedClients: z.number().nullable(),
    blockedClients: z.number().nullable(),
    usedMemoryBytes: z.number().nullable(),
    opsPerSecond: z.number().nullable(),
    rejectedConnections: z.number().nullable(),
    sections: InfoSectionsSchema,
  }),
  timeoutMs: 10_000,
  async handler(params, ctx) {
    const sections = parseInfo(await redis(ctx, params, ['INFO', params.section]));
    return {
      version: str(sections, 'server', 'redis_version'),
      mode: str(sections, 'server', 'redis_mode'),
      role: str(sections, 'replication', 'role'),
      uptimeSeconds: num(sections, 'server', 'uptime_in_seconds'),
      connectedClients: num(sections, 'clients', 'connected_clients'),
      blockedClients: num(sections, 'clients', 'blocked_clients'),
      usedMemoryBytes: num(sections, 'memory', 'used_memory'),
      opsPerSecond: num(sections, 'stats', 'instantaneous_ops_per_sec'),
      rejectedConnections: num(sections, 'stats', 'rejected_connections'),
      sections,
    };
  },
});
