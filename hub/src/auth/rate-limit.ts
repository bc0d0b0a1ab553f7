/**
 * Login throttling: a fixed window of failures per key (IP, user name), kept
 * in memory by one hub process. Bounded, so a spray of addresses cannot grow it forever.
 * Several hubs count together through `AttemptCounters` (below): with SONDE_NATS_URL the
 * counts live in a NATS KV bucket every hub shares (cluster/limits.ts), so an attacker
 * cannot multiply the allowed attempts by the number of hubs behind the load balancer.
 */
export class FailureWindow {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds until `key` may try again, or 0. */
  blockedFor(key: string, now = Date.now()): number {
    const entry = this.entries.get(key);
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.maxFailures ? entry.resetAt - now : 0;
  }

  fail(key: string, now = Date.now()): void {
    const entry = this.entries.get(key);
    if (!entry || entry.resetAt <= now) {
      if (this.entries.size >= this.maxKeys) this.prune(now);
      this.entries.set(key, { count: 1, resetAt: now + this.windowMs });
    } else entry.count += 1;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
    // Still full: drop the oldest entries rather than refuse to count new ones.
    while (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** One fixed window of failures per key, wherever it is counted. */
export interface AttemptCounter {
  /** Milliseconds until `key` may try again, or 0. */
  blockedFor(key: string): Promise<number>;
  fail(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

/** Makes the windows of one hub (`name` keeps windows apart: `login-ip`, `login-user`, ...). */
export interface AttemptCounters {
  window(name: string, maxFailures: number, windowMs: number): AttemptCounter;
}

/** The single hub's counters: in this process's memory. */
export const localAttemptCounters: AttemptCounters = {
  window(_name, maxFailures, windowMs) {
    const window = new FailureWindow(maxFailures, windowMs);
    return {
      blockedFor: (key) => Promise.resolve(window.blockedFor(key)),
      fail: (key) => Promise.resolve(window.fail(key)),
      reset: (key) => Promise.resolve(window.reset(key)),
    };
  },
};
