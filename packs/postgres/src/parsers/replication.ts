import { z } from 'zod';

const RecoveryRowSchema = z.object({ in_recovery: z.boolean(), replay_lag_s: z.number().nullable(), receiver: z.string().nullable() });
const ReplicaRowSchema = z.object({
  app: z.string().nullable(),
  client: z.string().nullable(),
  state: z.string().nullable(),
  sync_state: z.string().nullable(),
  lag_s: z.number().nullable(),
  lag_bytes: z.number().nullable(),
});

export const ReplicationResultSchema = z.object({
  role: z.enum(['primary', 'standby']),
  configured: z.boolean().describe('False on a primary without replicas and not in recovery: replication is not set up.'),
  replayLagSeconds: z.number().nullable().describe('On a standby: seconds since the last replayed transaction.'),
  walReceiverStatus: z.string().nullable(),
  replicas: z.array(
    z.object({
      application: z.string().nullable(),
      client: z.string().nullable(),
      state: z.string().nullable(),
      syncState: z.string().nullable(),
      replayLagSeconds: z.number().nullable(),
      lagBytes: z.number().nullable(),
    }),
  ),
});
export type ReplicationResult = z.infer<typeof ReplicationResultSchema>;

export function parseReplication(recovery: unknown, replicas: unknown): ReplicationResult {
  const state = RecoveryRowSchema.parse(recovery);
  const rows = z.array(ReplicaRowSchema).parse(replicas ?? []);
  return {
    role: state.in_recovery ? 'standby' : 'primary',
    configured: state.in_recovery || rows.length > 0,
    replayLagSeconds: state.in_recovery ? state.replay_lag_s : null,
    walReceiverStatus: state.receiver,
    replicas: rows.map((row) => ({
      application: row.app,
      client: row.client,
      state: row.state,
      syncState: row.sync_state,
      replayLagSeconds: row.lag_s,
      lagBytes: row.lag_bytes,
    })),
  };
}
