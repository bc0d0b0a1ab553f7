import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyAuditChain } from '../audit/ring.js';
import { action, emit, type JsonOption } from '../cli/output.js';
import { AgentError } from '../errors.js';
import { homePaths, readJsonFile } from '../home.js';
import { readPackEvents, verifyPackEvents } from '../packs/events.js';
import { AuditFileSchema } from '../runtime/status-file.js';

interface AuditOptions extends JsonOption {
  verify?: boolean;
  limit?: string;
  packs?: boolean;
}

/** Pack operations (install, update, approve, remove, revocations), from SONDE_HOME/pack-events.jsonl. */
function packAudit(options: AuditOptions): void {
  const paths = homePaths();
  const events = readPackEvents(paths);
  const verdict = options.verify ? verifyPackEvents(events) : undefined;
  const limit = Math.max(1, Number.parseInt(options.limit ?? '50', 10) || 50);
  const shown = events.slice(-limit);
  emit(
    options,
    { total: events.length, events: shown, ...(verdict === undefined ? {} : { verify: { ok: verdict, checked: events.length } }) },
    [
      ...(events.length === 0 ? ['No pack operations recorded yet.'] : []),
      ...shown.map(
        (e) =>
          `${e.time} ${e.action.padEnd(11)} ${e.pack}${e.version ? `@${e.version}` : ''} ${e.outcome}${e.from ? ` (from ${e.from})` : ''}${e.by ? ` by ${e.by}` : ''}${e.detail ? ` — ${e.detail}` : ''}`,
      ),
      ...(verdict === undefined
        ? []
        : [verdict ? `chain OK (${events.length} entries)` : 'chain BROKEN: pack-events.jsonl was edited or truncated']),
    ],
  );
  if (verdict === false) process.exitCode = 8;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Show the local audit ring (recent probe executions), as mirrored by the running agent to SONDE_HOME/audit.json')
    .option('--verify', 'recompute the hash chain and fail (exit 8) if it is broken')
    .option('--limit <n>', 'show the last n entries', '50')
    .option('--packs', 'show pack operations (install, update, approve, remove, revocations) instead of probe executions')
    .option('--json', 'print as JSON')
    .action(
      action((options: AuditOptions) => {
        if (options.packs) return packAudit(options);
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
