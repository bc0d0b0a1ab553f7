/**
 * Every NATS name the cluster uses, from one prefix (`SONDE_NATS_PREFIX`, default `sonde`) so
 * several deployments (or test runs) can share a NATS server without meeting. The subject
 * permissions in docs/multi-hub.md are written against these.
 */
export interface ClusterNames {
  prefix: string;
  /** Request/reply subject of one hub: probe requests, liveness checks and approvals for the agents it holds. */
  rpc(hubId: string): string;
  /** Broadcasts every hub listens to: fleet record changes, revocation pushes, disconnects. */
  events: string;
  /** KV bucket: hub id → lease (who is alive, until when). */
  hubsBucket: string;
  /** KV bucket: agent id → the hub holding its socket. */
  presenceBucket: string;
  /** KV bucket: failure windows every hub counts in (login throttling; limits.ts). */
  limitsBucket: string;
}

export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export function clusterNames(prefix: string): ClusterNames {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`invalid NATS prefix ${JSON.stringify(prefix)}`);
  return {
    prefix,
    rpc: (hubId) => `${prefix}.v1.hub.${hubId}.rpc`,
    events: `${prefix}.v1.cluster.events`,
    hubsBucket: `${prefix}_hubs`,
    presenceBucket: `${prefix}_presence`,
    limitsBucket: `${prefix}_limits`,
  };
}
