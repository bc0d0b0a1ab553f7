import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyAuditChain } from '../audit/ring.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { AgentError } from '../errors.js';
import { homePaths, readJsonFile } from '../home.js';
import { AuditFileSchema } from '../runtime/status-file.js';

interface AuditOptions extends JsonOption {
  verify?: boolean;
  limit?: string;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Show the local audit ring (recent probe executions), as mirrored by the running agent to SONDE_HOME/audit.json')
    .option('--verify', 'recompute the hash chain and fail (exit 8) if it is broken')
    .option('--limit <n>', 'show the last n entries', '50')
    .option('--json', 'print as JSON')
    .action(
      action((options: AuditOptions) => {
        const paths = homePaths();
        if (!existsSync(paths.audit)) throw new AgentError('SONDE_ERR_AUDIT_UNAVAILABLE');
        const parsed = AuditFileSchema.safeParse(readJsonFile(paths.audit));
        if (!parsed.success) throw new AgentError('SONDE_ERR_AUDIT_BROKEN', 'the audit file does not parse.');
        const entries = parsed.data.entries;
        const verdict = options.verify ? verifyAuditChain(entries) : undefined;
        const limit = Math.max(1, Number.parseInt(options.limit ?? '50', 10) || 50);
        const shown = entries.slice(-limit);
        emit(options, { pid: parsed.data.pid, updatedAt: parsed.data.updatedAt, total: entries.length, entries: shown, verify: verdict }, [
          ...shown.map(
            (e) => `${e.time} ${e.status.padEnd(7)} ${e.probe} ${e.durationMs} ms req=${e.requestId} hash=${e.hash.slice(0, 12)}`,
          ),
          ...(verdict
            ? [verdict.ok ? `chain OK (${verdict.checked} entries)` : `chain BROKEN at seq ${verdict.brokenAt}: ${verdict.reason}`]
            : []),
        ]);
        if (verdict && !verdict.ok) process.exitCode = 8;
      }),
    );
}
