import { SondeError } from '../errors.js';
import { REPLAY_WINDOW_MS } from './version.js';

/**
 * Rejects envelopes older or newer than the window and ids seen within it.
 * Ids are only remembered for as long as their timestamp could pass the
 * freshness check, so memory stays bounded by the message rate.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;

  constructor(
    private readonly windowMs: number = REPLAY_WINDOW_MS,
    private readonly maxEntries: number = 200_000,
  ) {}

  check(id: string, ts: number, now: number = Date.now()): void {
    if (Math.abs(now - ts) > this.windowMs) {
      throw new SondeError('SONDE_ERR_STALE', `message timestamp is ${Math.round((now - ts) / 1000)} s from this clock`);
    }
    if (now - this.lastPrune > this.windowMs / 4 || this.seen.size >= this.maxEntries) this.prune(now);
    if (this.seen.has(id)) throw new SondeError('SONDE_ERR_REPLAYED', `message ${id} was already seen`);
    if (this.seen.size >= this.maxEntries) {
      // Fail closed: refusing fresh traffic beats forgetting ids that could be replayed.
      throw new SondeError('SONDE_ERR_REPLAYED', 'replay cache is full; message refused');
    }
    this.seen.set(id, ts);
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    this.lastPrune = now;
    for (const [id, ts] of this.seen) {
      if (Math.abs(now - ts) > this.windowMs) this.seen.delete(id);
    }
  }
}
