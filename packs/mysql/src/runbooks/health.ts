import type { Finding, RunbookDefinition } from '@sonde/pack-sdk';
import type { ProcesslistResult } from '../parsers/processlist.js';
import type { ReplicationResult } from '../parsers/replication.js';
import type { StatusResult } from '../parsers/status.js';
import type { VariablesResult } from '../parsers/variables.js';

function failed(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'error' in value) {
    const error = value.error;
    return error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
  }
  return value === undefined ? 'no result' : undefined;
}

function connections(status: StatusResult, variables: VariablesResult | undefined): Finding {
  const probe = 'status';
  const max = variables?.variables.find((v) => v.name === 'max_connections')?.number ?? null;
  const used = status.threadsConnected;
  if (max && used !== null) {
    const percent = Math.round((used / max) * 1000) / 10;
    if (percent >= 95) return { severity: 'critical', probe, summary: `${used} of ${max} connections in use (${percent}%)` };
    if (percent >= 80) return { severity: 'warning', probe, summary: `${used} of ${max} connections in use (${percent}%)` };
  }
  if (
    status.bufferPoolHitRate !== null &&
    status.bufferPoolHitRate < 0.95 &&
    (status.counters.Innodb_buffer_pool_read_requests ?? 0) > 10_000
  ) {
    return {
      severity: 'warning',
      probe,
      summary: `InnoDB buffer pool hit rate ${Math.round(status.bufferPoolHitRate * 1000) / 10}%: the pool may be too small`,
    };
  }
  return {
    severity: 'ok',
    probe,
    summary: `${used ?? '?'} connection(s)${max ? ` of ${max}` : ''}, ${status.threadsRunning ?? '?'} running`,
  };
}

function longQueries(result: ProcesslistResult): Finding {
  const probe = 'processlist';
  const longest = result.longestQuery;
  if (longest && longest.timeSeconds >= 300)
    return { severity: 'critical', probe, summary: `a query has run ${longest.timeSeconds} s (thread ${longest.id})` };
  if (longest && longest.timeSeconds >= 30)
    return { severity: 'warning', probe, summary: `a query has run ${longest.timeSeconds} s (thread ${longest.id})` };
  return { severity: 'ok', probe, summary: `${result.running} running statement(s), none over 30 s` };
}

function replication(result: ReplicationResult): Finding {
  const probe = 'replication.status';
  if (!result.configured) return { severity: 'ok', probe, summary: 'standalone: replication is not configured' };
  const replica = result.replica;
  if (!replica) return { severity: 'ok', probe, summary: `source writing binary log ${result.binaryLog.file ?? ''}`.trim() };
  if (replica.ioRunning !== 'Yes' || replica.sqlRunning !== 'Yes') {
    const error = replica.lastIoError || replica.lastSqlError;
    return {
      severity: 'critical',
      probe,
      summary: `replica threads IO=${replica.ioRunning} SQL=${replica.sqlRunning}${error ? `: ${error}` : ''}`.slice(0, 300),
    };
  }
  const behind = replica.secondsBehind ?? 0;
  if (behind >= 300) return { severity: 'critical', probe, summary: `replica ${behind} s behind its source` };
  if (behind >= 30) return { severity: 'warning', probe, summary: `replica ${behind} s behind its source` };
  return { severity: 'ok', probe, summary: `replica running, ${behind} s behind` };
}

export const healthRunbook: RunbookDefinition = {
  category: 'database-health',
  description: 'MariaDB/MySQL health: connection headroom and buffer pool, long-running queries, replication threads and lag.',
  steps: [{ probe: 'status' }, { probe: 'variables.important' }, { probe: 'processlist' }, { probe: 'replication.status' }],
  evaluate(results) {
    const findings: Finding[] = [];
    const critical = (probe: string, error: string): Finding => ({
      severity: 'critical',
      probe,
      summary: `could not check: ${error}`.slice(0, 300),
    });
    const statusError = failed(results.status);
    const variables = failed(results['variables.important']) ? undefined : (results['variables.important'] as VariablesResult);
    findings.push(statusError ? critical('status', statusError) : connections(results.status as StatusResult, variables));
    const plError = failed(results.processlist);
    findings.push(plError ? critical('processlist', plError) : longQueries(results.processlist as ProcesslistResult));
    const replError = failed(results['replication.status']);
    findings.push(replError ? critical('replication.status', replError) : replication(results['replication.status'] as ReplicationResult));
    return findings;
  },
};
