import { randomUUID } from 'node:crypto';
import type { AuditEntryInput } from '../model.js';
import { VerifyCancelledError, type HubAuditLog, type VerifyResult } from './audit-log.js';

/** The `audit.verify` entry a finished verify leaves (REST, the job resource and the CLI write the same one). */
export function verifyAuditEntry(result: VerifyResult, actor: AuditEntryInput['actor'], via?: string): AuditEntryInput {
  return {
    action: 'audit.verify',
    actor,
    status: result.ok ? 'ok' : 'error',
    detail:
      (result.ok
        ? `${result.checked} entries checked${result.full ? ' (full)' : ''}`
        : `first broken entry ${result.firstBrokenSeq}: ${result.reason}`) + (via ? ` (${via})` : ''),
  };
}

/**
 * A verify running in the background (`POST /api/v1/audit/verify`), polled with `GET /api/v1/audit/verify/{id}`,
 * cancelled with `DELETE /api/v1/audit/verify/{id}`.
 */
export interface VerifyJob {
  id: string;
  /** `running`, then `done` (see `result.ok`), `failed` (verify could not run to its end: `error`) or `cancelled`. */
  state: 'running' | 'done' | 'failed' | 'cancelled';
  full: boolean;
  /** Who started it (the key or user name). */
  startedBy: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Entries checked so far, of about `total` to check (both 0 until the first report). */
  checked: number;
  total: number;
  /** The verify's result once `done`, after its `audit.verify` entry is committed. */
  result: VerifyResult | null;
  error: string | null;
  /** Who cancelled it (the key or user name, or `hub shutdown`), once `cancelled`. */
  cancelledBy: string | null;
}

type Actor = AuditEntryInput['actor'];

/** The `audit.verify` entry of a cancelled verify: the one entry of the job, made by whoever cancelled it. */
export function cancelledVerifyEntry(
  progress: { checked: number; total: number },
  by: Actor,
  startedBy: string | null,
  via?: string,
): AuditEntryInput {
  return {
    action: 'audit.verify',
    actor: by,
    status: 'partial',
    detail:
      `cancelled after ${progress.checked} of ${progress.total} entries checked, nothing recorded` +
      (startedBy && startedBy !== by.name ? `, started by ${startedBy}` : '') +
      (via ? ` (${via})` : ''),
  };
}

/**
 * Background verifies of one hub process. One runs at a time: a start while one runs returns the running job
 * (a verify reads the whole chain; two at once only share the disk and the cores). Finished jobs are kept, the
 * newest `keep`, so a client that polls late still finds its result. Kept in memory: a job is known to the hub
 * that runs it (behind a load balancer, poll the hub that answered the start).
 */
export class VerifyJobs {
  private readonly jobs = new Map<string, VerifyJob>();
  private running: { job: VerifyJob; done: Promise<void>; controller: AbortController } | undefined;

  constructor(
    private readonly audit: HubAuditLog,
    private readonly keep = 20,
  ) {}

  /** Starts a verify (or returns the one running) and answers at once. */
  start(full: boolean, actor: AuditEntryInput['actor']): VerifyJob {
    if (this.running) return this.snapshot(this.running.job);
    const job: VerifyJob = {
      id: randomUUID(),
      state: 'running',
      full,
      startedBy: actor.name ?? null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      checked: 0,
      total: 0,
      result: null,
      error: null,
      cancelledBy: null,
    };
    this.jobs.set(job.id, job);
    for (const id of this.jobs.keys()) {
      if (this.jobs.size <= this.keep) break;
      if (id !== job.id) this.jobs.delete(id);
    }
    const controller = new AbortController();
    const done = this.run(job, actor, controller.signal).finally(() => (this.running = undefined));
    this.running = { job, done, controller };
    return this.snapshot(job);
  }

  /**
   * Cancels job `id` if it is running and resolves once it has stopped (worker threads terminated, its one
   * `audit.verify` entry committed, naming `by`). A job that has already ended is returned as it is; undefined for
   * an unknown id.
   */
  async cancel(id: string, by: Actor): Promise<VerifyJob | undefined> {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const running = this.running;
    if (running?.job === job) {
      running.controller.abort(new VerifyCancelledError(by.name ?? by.kind, by));
      await running.done;
    }
    return this.snapshot(job);
  }

  /** Cancels the running verify, if any (the hub is stopping: a verify is not worth holding its shutdown for). */
  async cancelRunning(by: Actor): Promise<void> {
    if (this.running) await this.cancel(this.running.job.id, by);
  }

  get(id: string): VerifyJob | undefined {
    const job = this.jobs.get(id);
    return job && this.snapshot(job);
  }

  /** Resolves when no verify is running (the hub waits for it before closing the store). */
  async settled(): Promise<void> {
    await this.running?.done;
  }

  private async run(job: VerifyJob, actor: Actor, signal: AbortSignal): Promise<void> {
    try {
      const result = await this.audit.verify({
        full: job.full,
        signal,
        onProgress: ({ checked, total }) => {
          job.checked = checked;
          job.total = total;
        },
      });
      // Every action audited once, and the job reports `done` only once its entry is committed.
      await this.audit.append(verifyAuditEntry(result, actor, `job ${job.id}`));
      Object.assign(job, { state: 'done', result, checked: result.checked, total: Math.max(job.total, result.checked) });
    } catch (error) {
      if (error instanceof VerifyCancelledError && signal.aborted) {
        // As for `done`: the job reads `cancelled` once its entry is committed.
        await this.audit.append(cancelledVerifyEntry(job, error.actor, job.startedBy, `job ${job.id}`)).catch(() => undefined);
        Object.assign(job, { state: 'cancelled', cancelledBy: error.by });
        return;
      }
      job.state = 'failed';
      job.error = error instanceof Error ? error.message : String(error);
      await this.audit
        .append({ action: 'audit.verify', actor, status: 'error', detail: `verify failed: ${job.error} (job ${job.id})` })
        .catch(() => undefined);
    } finally {
      job.finishedAt = new Date().toISOString();
    }
  }

  private snapshot(job: VerifyJob): VerifyJob {
    return { ...job };
  }
}
