/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random
 * time in [0, min(max, initial·2ⁿ)], so a fleet that lost its hub does not
 * reconnect in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  ceiling(): number {
    return Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
  }

  next(): number {
    const delay = Math.round(this.random() * this.ceiling());
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
