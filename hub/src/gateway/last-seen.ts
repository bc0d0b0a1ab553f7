import type { FastifyBaseLogger } from 'fastify';
import type { HubStore } from '../store/types.js';

/** How long a last-seen time may wait before it is written (the most a crash of the hub can lose). */
export const LAST_SEEN_FLUSH_MS = 1_000;
/**
 * Rows per transaction, one event-loop turn each, so a second of 10,000 agents' heartbeats never stalls the loop in
 * one go. Since migration 5 an agent row refers to its pack manifests by digest (`pack_manifests` holds each distinct
 * manifest once), so a last-seen write rewrites a row of a few KB (certificate, attestation, pack states), not ~40 KB
 * of manifests.
 */
export const ROWS_PER_TRANSACTION = 100;

/**
 * Last-seen times of agents, written in one transaction per second instead of
 * one commit per heartbeat (10,000 agents heartbeating every 15 s would be
 * ~670 commits a second). Nothing in this process reads them late: the fleet
 * view takes a connected agent's last activity from its socket. The gateway
 * flushes on close, after its sockets are closed, so a clean shutdown loses
 * nothing.
 */
export class LastSeenWriter {
  private pending = new Map<string, string>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextSlice: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: HubStore,
    private readonly log: FastifyBaseLogger,
    private readonly flushMs = LAST_SEEN_FLUSH_MS,
  ) {}

  /** Records `at` (an ISO time) as the agent's last-seen time unless a later one is already waiting. */
  mark(agentId: string, at: string): void {
    const waiting = this.pending.get(agentId);
    // ISO-8601 UTC times of one format order as strings.
    if (waiting === undefined || waiting < at) this.pending.set(agentId, at);
    if (!this.timer && !this.nextSlice) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Drops a waiting time that a direct write supersedes (registration stores a newer one with the agent version). */
  forget(agentId: string): void {
    this.pending.delete(agentId);
  }

  /**
   * Writes the waiting times, `ROWS_PER_TRANSACTION` per transaction and event-loop turn until none is left; `all`
   * writes every one now (shutdown). A flush already running finishes first.
   */
  async flush({ all = false }: { all?: boolean } = {}): Promise<void> {
    clearTimeout(this.timer);
    clearImmediate(this.nextSlice);
    this.timer = undefined;
    this.nextSlice = undefined;
    while (this.flushing) await this.flushing;
    this.flushing = this.writeSlices(all);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeSlices(all: boolean): Promise<void> {
    while (this.pending.size > 0) {
      const batch = new Map<string, string>();
      for (const [agentId, at] of this.pending) {
        batch.set(agentId, at);
        this.pending.delete(agentId);
        if (batch.size >= ROWS_PER_TRANSACTION) break;
      }
      try {
        await this.store.transaction(async (tx) => {
          for (const [agentId, at] of batch) await tx.agents.markSeen(agentId, at);
        });
      } catch (err) {
        // Last-seen times are informational: a failed write (database busy past its timeout) is logged, not retried.
        this.log.warn({ err, agents: batch.size }, 'could not write last-seen times');
      }
      if (!all && this.pending.size > 0) {
        this.nextSlice = setImmediate(() => void this.flush());
        return;
      }
    }
  }
}
