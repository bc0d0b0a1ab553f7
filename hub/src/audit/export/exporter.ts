import type { AuditRecord } from '../../services.js';
import type { HubStore } from '../../store/types.js';

/**
 * Audit export: every committed entry, in seq order, to each configured sink
 * (syslog, webhook, OTLP). The database is the queue: a sink reads the entries
 * after its cursor, delivers them as one batch, and only then moves its cursor
 * (persisted in the settings table, `audit.export.<sink>.cursor`). So:
 *
 * - an audit write never waits for a sink: the audit log only signals that
 *   something committed (`notify`), and a sink that is down just falls behind;
 * - nothing is lost across a hub restart or a sink outage: the next run starts
 *   after the last acknowledged entry, and the backlog is the rows in the
 *   database, bounded by the disk, not by memory;
 * - delivery is at least once: a batch acknowledged by the sink whose cursor
 *   write did not land (a crash in between) is sent again. Receivers dedupe by
 *   `seq` (every exported entry carries its seq and chain hash).
 *
 * A sink that fails is retried with exponential backoff and jitter; it reports
 * its lag (entries and seconds) and whether it is failing to /metrics, and logs
 * when it starts failing and when it recovers.
 */

export interface ExportSink {
  /** `syslog`, `webhook`, `otlp`: the metric label and the cursor's name. */
  readonly name: string;
  /** Resolves once the sink has taken the whole batch (its acknowledgement), rejects otherwise. */
  deliver(entries: AuditRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ExportSinkStatus {
  sink: string;
  /** Last acknowledged seq. */
  cursor: number;
  lagEntries: number;
  lagSeconds: number;
  /** Its oldest unacknowledged entry is older than the alert threshold (`behindSeconds`). */
  behind: boolean;
  failing: boolean;
  /** The last delivery error, while failing. */
  lastError: string | undefined;
  delivered: number;
}

interface ExportLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface AuditExporterOptions {
  store: Pick<HubStore, 'audit' | 'settings'>;
  sinks: ExportSink[];
  log: ExportLog;
  /** Entries per delivery (default 200). */
  batchSize?: number;
  /** How often a caught-up sink looks for entries written by another process (the CLI, another hub); default 2 s. */
  pollMs?: number;
  /** A sink whose oldest unacknowledged entry is older than this is logged as behind (default 300 s). */
  behindSeconds?: number;
  /** Backoff after a failed delivery: base doubled per attempt up to max, with full jitter (default 500 ms .. 60 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export const cursorSetting = (sink: string): string => `audit.export.${sink}.cursor`;

class SinkRunner {
  cursor = 0;
  head = 0;
  oldestPendingAt: string | undefined;
  failing = false;
  lastError: string | undefined;
  delivered = 0;
  private behind = false;
  private attempt = 0;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly sink: ExportSink,
    private readonly options: Required<Omit<AuditExporterOptions, 'sinks'>>,
  ) {}

  start(): void {
    this.done = this.run().catch((error: unknown) => {
      this.options.log.warn({ sink: this.sink.name, err: error }, 'audit export stopped');
    });
  }

  notify(seq: number): void {
    if (seq > this.head) this.head = seq;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = finish;
      this.timer = setTimeout(finish, ms);
    });
  }

  private async run(): Promise<void> {
    const { store, log, batchSize, pollMs } = this.options;
    const name = this.sink.name;
    while (!this.stopped) {
      try {
        const stored = await store.settings.get(cursorSetting(name));
        this.cursor = stored && /^\d+$/.test(stored) ? Number(stored) : 0;
        this.head = Math.max(this.head, (await store.audit.last())?.seq ?? 0);
        break;
      } catch (error) {
        await this.failed(error);
      }
    }
    while (!this.stopped) {
      let batch: AuditRecord[];
      try {
        batch = await store.audit.query({ afterSeq: this.cursor, limit: batchSize, order: 'asc' });
      } catch (error) {
        await this.failed(error);
        continue;
      }
      if (batch.length === 0) {
        if (this.behind) log.info({ sink: this.sink.name, cursor: this.cursor }, 'audit export caught up');
        this.behind = false;
        this.oldestPendingAt = undefined;
        this.head = Math.max(this.head, this.cursor);
        await this.sleep(pollMs);
        continue;
      }
      const last = batch[batch.length - 1];
      this.oldestPendingAt = batch[0].at;
      const lagSeconds = (Date.now() - Date.parse(batch[0].at)) / 1000;
      if (!this.behind && lagSeconds > this.options.behindSeconds) {
        this.behind = true;
        log.warn(
          { sink: name, lagSeconds: Math.round(lagSeconds), lagEntries: this.lagEntries() },
          'audit export is behind: its oldest unsent entry is older than the alert threshold',
        );
      }
      this.head = Math.max(this.head, last.seq);
      try {
        await this.sink.deliver(batch);
      } catch (error) {
        await this.failed(error);
        continue;
      }
      this.cursor = last.seq;
      this.delivered += batch.length;
      if (this.failing) log.info({ sink: name, cursor: this.cursor, attempts: this.attempt }, 'audit export recovered');
      this.failing = false;
      this.lastError = undefined;
      this.attempt = 0;
      try {
        await store.settings.set(cursorSetting(name), String(this.cursor));
      } catch (error) {
        // Delivered but not recorded: after a restart these entries go again (at least once), never missing.
        log.warn({ sink: name, err: error }, 'audit export cursor not saved');
      }
    }
  }

  private async failed(error: unknown): Promise<void> {
    this.attempt += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
    const { log, retryBaseMs, retryMaxMs } = this.options;
    // Logged when the sink starts failing and then at attempts 2, 4, 8, 16…: an alert, not a flood.
    if (!this.failing || (this.attempt & (this.attempt - 1)) === 0) {
      log.warn(
        { sink: this.sink.name, attempt: this.attempt, lagEntries: this.lagEntries(), error: this.lastError },
        'audit export failing; retrying',
      );
    }
    this.failing = true;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(this.attempt - 1, 20));
    // Full jitter: many hubs behind one collector do not retry in step.
    await this.sleep(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  lagEntries(): number {
    return Math.max(0, this.head - this.cursor);
  }

  status(): ExportSinkStatus {
    const lagEntries = this.lagEntries();
    const oldest = lagEntries > 0 && this.oldestPendingAt ? Date.parse(this.oldestPendingAt) : NaN;
    const lagSeconds = Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0;
    return {
      sink: this.sink.name,
      cursor: this.cursor,
      lagEntries,
      lagSeconds,
      behind: lagSeconds > this.options.behindSeconds,
      failing: this.failing,
      lastError: this.failing ? this.lastError : undefined,
      delivered: this.delivered,
    };
  }
}

export class AuditExporter {
  private readonly runners: SinkRunner[];

  constructor(options: AuditExporterOptions) {
    const settings = {
      store: options.store,
      log: options.log,
      batchSize: options.batchSize ?? 200,
      pollMs: options.pollMs ?? 2_000,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      behindSeconds: options.behindSeconds ?? 300,
    };
    this.runners = options.sinks.map((sink) => new SinkRunner(sink, settings));
  }

  start(): this {
    for (const runner of this.runners) runner.start();
    return this;
  }

  /** An entry up to `seq` committed: wakes the sinks (never waits for them). */
  notify(seq: number): void {
    for (const runner of this.runners) runner.notify(seq);
  }

  status(): ExportSinkStatus[] {
    return this.runners.map((runner) => runner.status());
  }

  /**
   * The lowest acknowledged seq over all sinks (retention never prunes past it), or undefined with no sink.
   */
  acknowledgedUpTo(): number | undefined {
    return this.runners.length === 0 ? undefined : Math.min(...this.runners.map((runner) => runner.cursor));
  }

  async stop(): Promise<void> {
    for (const runner of this.runners) runner.stop();
    // Closing a sink ends a delivery in flight (its batch goes again after the restart).
    await Promise.all(this.runners.map((runner) => runner.sink.close().catch(() => undefined)));
    await Promise.all(this.runners.map((runner) => runner.done));
  }
}
