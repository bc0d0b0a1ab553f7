import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';
import type { BlockingResult } from '../parsers/blocking.js';
import type { ReplicationResult } from '../parsers/replication.js';
import type { ConnectionsResult } from '../parsers/sessions.js';

function failed(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'error' in value) {
    const error = value.error;
    if (error && typeof error === 'object' && 'message' in error) return String(error.message);
    return String(error);
  }
  return undefined;
}

function connections(result: ConnectionsResult): Finding {
  const probe = 'connections.active';
  const used = result.usedPercent;
  if (used >= 95) return { severity: 'critical', probe, summary: `${used}% of max_connections (${result.maxConnections}) in use` };
  if (used >= 80) return { severity: 'warning', probe, summary: `${used}% of max_connections (${result.maxConnections}) in use` };
  const idleTx = result.byState['idle in transaction'] ?? 0;
  if (idleTx > 0) return { severity: 'warning', probe, summary: `${idleTx} session(s) idle in transaction hold locks and snapshots` };
  return { severity: 'ok', probe, summary: `${result.total} client session(s), ${used}% of max_connections` };
}

function blocking(result: BlockingResult): Finding {
  const probe = 'locks.blocking';
  if (result.blocked.length === 0) return { severity: 'ok', probe, summary: 'no session is waiting on a lock' };
  const longest = Math.max(...result.blocked.map((b) => b.waitingSeconds ?? 0));
  const severity = longest >= 60 ? 'critical' : 'warning';
  return {
    severity,
    probe,
    summary: `${result.blocked.length} session(s) blocked by pid(s) ${result.rootBlockers.join(', ')}, longest ${Math.round(longest)} s`,
  };
}

function replication(result: ReplicationResult): Finding {
  const probe = 'replication.status';
  if (!result.configured) return { severity: 'ok', probe, summary: 'primary without replicas: replication is not configured' };
  if (result.role === 'standby') {
    if (result.walReceiverStatus !== 'streaming')
      return { severity: 'critical', probe, summary: `standby WAL receiver is ${result.walReceiverStatus ?? 'not running'}` };
    const lag = result.replayLagSeconds ?? 0;
    if (lag > 300) return { severity: 'critical', probe, summary: `standby replay is ${Math.round(lag)} s behind` };
    if (lag > 30) return { severity: 'warning', probe, summary: `standby replay is ${Math.round(lag)} s behind` };
    return { severity: 'ok', probe, summary: 'standby is streaming and current' };
  }
  const notStreaming = result.replicas.filter((r) => r.state !== 'streaming');
  if (notStreaming.length > 0) return { severity: 'critical', probe, summary: `${notStreaming.length} replica(s) not streaming` };
  const worst = Math.max(...result.replicas.map((r) => r.replayLagSeconds ?? 0));
  if (worst > 30) return { severity: 'warning', probe, summary: `replica replay lag up to ${Math.round(worst)} s` };
  return { severity: 'ok', probe, summary: `${result.replicas.length} replica(s) streaming` };
}

/** First look at a PostgreSQL server: connection headroom, lock waits, replication. */
export const healthRunbook: RunbookDefinition = {
  category: 'database-health',
  description: 'PostgreSQL health: connection headroom, sessions idle in transaction, lock waits and replication state.',
  steps: [{ probe: 'connections.active' }, { probe: 'locks.blocking' }, { probe: 'replication.status' }],
  evaluate(results) {
    const findings: Finding[] = [];
    const checks: Array<[string, (value: never) => Finding]> = [
      ['connections.active', connections],
      ['locks.blocking', blocking],
      ['replication.status', replication],
    ];
    for (const [probe, check] of checks) {
      const value = results[probe];
      const error = value === undefined ? 'no result' : failed(value);
      findings.push(error ? { severity: 'critical', probe, summary: `could not check: ${error}`.slice(0, 300) } : check(value as never));
    }
    return findings;
  },
};
