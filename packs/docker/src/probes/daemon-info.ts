import { defineProbe, SondeError } from '@sonde/pack-sdk';
import { z } from 'zod';
import { runDocker } from '../docker.js';
import { summariseInfo } from '../parsers/info.js';
import { JSON_FORMAT } from '../permissions.js';

export const daemonInfo = defineProbe({
  name: 'daemon.info',
  description:
    'Docker daemon summary: version, container counts by state, images, storage/logging/cgroup drivers, kernel, OS, CPUs, memory, swarm state and daemon warnings.',
  params: z.strictObject({}),
  result: z.object({
    serverVersion: z.string(),
    containers: z.number().int(),
    running: z.number().int(),
    paused: z.number().int(),
    stopped: z.number().int(),
    images: z.number().int(),
    storageDriver: z.string(),
    loggingDriver: z.string(),
    cgroupDriver: z.string(),
    cgroupVersion: z.string(),
    kernelVersion: z.string(),
    operatingSystem: z.string(),
    architecture: z.string(),
    cpus: z.number().int(),
    memTotalBytes: z.number().int(),
    dockerRootDir: z.string(),
    swarm: z.string(),
    liveRestore: z.boolean(),
    runtimes: z.array(z.string()),
    securityOptions: z.array(z.string()),
    warnings: z.array(z.string()),
    serverErrors: z.array(z.string()),
    clientVersion: z.string().nullable(),
  }),
  timeoutMs: 20_000,
  async handler(_params, ctx) {
    // With the daemon down, docker info still prints client-only JSON but exits 1: runDocker turns that into the daemon error.
    const out = await runDocker(ctx, ['info', '--format', JSON_FORMAT]);
    const info = summariseInfo(JSON.parse(out.stdout));
    if (!info.serverVersion && info.serverErrors.length)
      throw new SondeError('SONDE_ERR_COMMAND_FAILED', `docker info: ${info.serverErrors[0]}`);
    return info;
  },
});
