import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { getData, NodeName } from '../api.js';

const RawTasks = z.array(
  z.object({
    upid: z.string(),
    node: z.string(),
    type: z.string(),
    id: z.string().default(''),
    user: z.string(),
    starttime: z.number(),
    endtime: z.number().optional(),
    status: z.string().optional(),
  }),
);

export const tasksRecent = defineProbe({
  name: 'tasks.recent',
  description:
    'Recent cluster tasks (backups, migrations, starts, replication...) newest first, by default only the failed ones: type, guest/object id, node, user, start/end time, duration and the error status text.',
  params: z.strictObject({
    onlyFailed: z.boolean().default(true),
    node: NodeName.optional(),
    limit: z.number().int().min(1).max(500).default(50),
  }),
  result: z.object({
    failed: z.number().int().describe('Failed tasks in the recent list, before filtering and the limit.'),
    running: z.number().int(),
    tasks: z.array(
      z.object({
        upid: z.string(),
        type: z.string(),
        id: z.string(),
        node: z.string(),
        user: z.string(),
        start: z.string(),
        end: z.string().nullable(),
        durationSeconds: z.number().nullable(),
        state: z.enum(['ok', 'failed', 'running']),
        status: z.string().nullable(),
      }),
    ),
    truncated: z.boolean(),
  }),
  timeoutMs: 20_000,
  openWorld: true,
  async handler(params, ctx) {
    const raw = await getData(ctx, '/api2/json/cluster/tasks', RawTasks);
    const tasks = raw
      .map((t) => {
        const state: 'ok' | 'failed' | 'running' = t.endtime === undefined ? 'running' : t.status === 'OK' ? 'ok' : 'failed';
        return {
          upid: t.upid,
          type: t.type,
          id: t.id,
          node: t.node,
          user: t.user,
          start: new Date(t.starttime * 1000).toISOString(),
          end: t.endtime === undefined ? null : new Date(t.endtime * 1000).toISOString(),
          durationSeconds: t.endtime === undefined ? null : t.endtime - t.starttime,
          state,
          status: t.status ?? null,
        };
      })
      .sort((a, b) => b.start.localeCompare(a.start));
    // "OK" and warnings ("WARNINGS: 2") are not failures; Proxmox puts the error text in status otherwise.
    for (const t of tasks) if (t.state === 'failed' && /^WARNINGS: \d+$/.test(t.status ?? '')) t.state = 'ok';
    const listed = tasks.filter((t) => (!params.onlyFailed || t.state === 'failed') && (!params.node || t.node === params.node));
    return {
      failed: tasks.filter((t) => t.state === 'failed').length,
      running: tasks.filter((t) => t.state === 'running').length,
      tasks: listed.slice(0, params.limit),
      truncated: listed.length > params.limit,
    };
  },
});
