import { defineProbe, SondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { ContainerParam } from '../params.js';
import { summariseInspect } from '../parsers/inspect.js';

export const containerInspect = defineProbe({
  name: 'container.inspect',
  description:
    'One container in detail: state (running, exit code, OOM kill, restart count, health and last health check output), restart policy, mounts, networks, published ports, limits and log driver. Environment values are never returned (only their count).',
  params: z.strictObject({ container: ContainerParam }),
  result: z.object({
    id: z.string(),
    name: z.string(),
    image: z.string(),
    imageId: z.string(),
    created: z.string(),
    platform: z.string().nullable(),
    state: z.object({
      status: z.string(),
      running: z.boolean(),
      paused: z.boolean(),
      restarting: z.boolean(),
      oomKilled: z.boolean(),
      dead: z.boolean(),
      pid: z.number().int(),
      exitCode: z.number().int(),
      error: z.string(),
      startedAt: z.string(),
      finishedAt: z.string(),
      health: z.object({ status: z.string(), failingStreak: z.number().int(), lastOutput: z.string().nullable() }).nullable(),
    }),
    restartCount: z.number().int(),
    restartPolicy: z.string().nullable(),
    entrypoint: z.array(z.string()),
    cmd: z.array(z.string()),
    workingDir: z.string().nullable(),
    user: z.string().nullable(),
    envCount: z.number().int(),
    labels: z.record(z.string(), z.string()),
    mounts: z.array(z.object({ type: z.string(), source: z.string(), destination: z.string(), readWrite: z.boolean() })),
    networks: z.array(z.object({ name: z.string(), ipAddress: z.string(), gateway: z.string(), macAddress: z.string() })),
    ports: z.array(z.object({ container: z.string(), hostIp: z.string(), hostPort: z.string() })),
    memoryLimitBytes: z.number().int(),
    nanoCpus: z.number().int(),
    logDriver: z.string().nullable(),
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const out = await runDocker(ctx, ['container', 'inspect', params.container]);
    const parsed = JSON.parse(out.stdout) as unknown;
    if (!Array.isArray(parsed) || parsed.length === 0)
      throw new SondeError('SONDE_ERR_COMMAND_FAILED', `no container named ${params.container}`);
    return summariseInspect(parsed[0]);
  },
});
