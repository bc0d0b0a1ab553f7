import type { KV } from '@nats-io/kv';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';

/**
 * Hub identity and liveness. Every hub writes `hubId → { expiresAt }` into a
 * KV bucket every `refreshMs`; a hub is alive while its record's `expiresAt`
 * lies in the future by this hub's clock.
 *
 * NATS 2.9 has no per-key TTL and an expiring message produces no watch event,
 * so expiry is decided by READERS from the timestamp in the record (checked on
 * every read and on a timer that notices a lease running out), and the bucket's
 * `max_age` (10 × the lease) only sweeps away records of hubs long dead. On 2.11+
 * each refresh could carry a per-message TTL (`allow_msg_ttl`) with
 * `subject_delete_marker_ttl`, so a dead hub's lease disappears by itself AND
 * watchers get a delete marker: the timer below would then only be a backstop.
 */

export const LeaseRecordSchema = z
  .object({
    hubId: z.string(),
    startedAt: z.string(),
    expiresAt: z.number().int(),
    /** The hub's public URL (operators and `sonde-hub` logs; never used to route). */
    url: z.string().max(500).nullable(),
  })
  .strict();
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

export interface LeaseOptions {
  hubId: string;
  url: string | null;
  /** How long a lease is good for after each refresh. */
  leaseMs: number;
  /** How often this hub refreshes its lease and re-checks everyone's. */
  refreshMs: number;
  log: FastifyBaseLogger;
  now?: () => number;
}

export class HubLeases {
  private readonly records = new Map<string, LeaseRecord>();
  private live = new Set<string>();
  private readonly listeners = new Set<(live: ReadonlySet<string>) => void>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: { stop(): void } | undefined;
  private readonly startedAt = new Date().toISOString();
  private readonly now: () => number;
  /** Hubs found gone (no responders on their subject) before their lease ran out, until they write a lease again. */
  private readonly gone = new Set<string>();
  /** Until when this hub's own lease is known to be stored. */
  ownValidUntil = 0;

  constructor(
    private readonly kv: KV,
    private readonly options: LeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Writes this hub's lease, loads everyone's and follows the bucket. */
  async start(): Promise<void> {
    await this.refresh();
    await this.watch();
    this.timer = setInterval(() => void this.tick(), this.options.refreshMs);
    this.timer.unref();
  }

  /** Follows the bucket again (after NATS came back without its store, the old watch has nothing to follow). */
  async rewatch(): Promise<void> {
    this.watcher?.stop();
    await this.watch();
  }

  private async watch(): Promise<void> {
    const watch = await this.kv.watch({ key: '>' });
    this.watcher = watch;
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') {
          const parsed = LeaseRecordSchema.safeParse(safeJson(entry.string()));
          if (parsed.success && parsed.data.hubId === entry.key) {
            this.records.set(entry.key, parsed.data);
            // A hub that writes its lease again is back (a restart under the same id).
            this.gone.delete(entry.key);
          }
        } else {
          this.records.delete(entry.key);
        }
        this.recompute();
      }
    })().catch((err: unknown) => this.options.log.warn({ err }, 'hub lease watch ended'));
  }

  isLive(hubId: string): boolean {
    if (hubId === this.options.hubId) return true;
    const record = this.records.get(hubId);
    return Boolean(record && record.expiresAt > this.now() && !this.gone.has(hubId));
  }

  /**
   * Nobody listens on the hub's subject any more (it was killed): it counts as dead from now on, not only once
   * its lease runs out, so the fleet shows its agents offline and they can register elsewhere at once.
   */
  markGone(hubId: string): void {
    if (hubId === this.options.hubId || this.gone.has(hubId)) return;
    this.options.log.warn({ hubId }, 'hub does not answer on NATS: its agents count as offline');
    this.gone.add(hubId);
    this.recompute();
  }

  liveHubs(): ReadonlySet<string> {
    return this.live;
  }

  /** Called when the set of live hubs changes (a hub started, stopped, or its lease ran out). */
  onChange(listener: (live: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops refreshing and deletes this hub's lease, so others see it gone at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.stop();
    await this.kv.delete(this.options.hubId).catch(() => undefined);
  }

  /** Writes this hub's lease now (after NATS comes back) and re-evaluates everyone's. */
  async refreshNow(): Promise<void> {
    await this.tick();
  }

  private async tick(): Promise<void> {
    await this.refresh();
    this.recompute();
  }

  private async refresh(): Promise<void> {
    const now = this.now();
    const record: LeaseRecord = {
      hubId: this.options.hubId,
      startedAt: this.startedAt,
      expiresAt: now + this.options.leaseMs,
      url: this.options.url,
    };
    try {
      await this.kv.put(this.options.hubId, JSON.stringify(record));
      this.ownValidUntil = record.expiresAt;
      this.records.set(this.options.hubId, record);
    } catch (err) {
      this.options.log.warn({ err }, 'could not refresh this hub’s lease in NATS');
    }
  }

  private recompute(): void {
    const now = this.now();
    const live = new Set<string>([this.options.hubId]);
    for (const [hubId, record] of this.records) if (record.expiresAt > now && !this.gone.has(hubId)) live.add(hubId);
    const changed = live.size !== this.live.size || [...live].some((hubId) => !this.live.has(hubId));
    this.live = live;
    if (changed) for (const listener of this.listeners) listener(live);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
