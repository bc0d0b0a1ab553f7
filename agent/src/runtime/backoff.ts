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

  /**
   * The delay after a hub refused the upgrade with `Retry-After` (503 from its admission limit, 429 from its
   * throttle): at least what it asked plus up to one initial interval of jitter (the hint is in whole seconds, so the
   * agents it refused in one second would otherwise come back in one), never less than this backoff's own draw, which
   * advances as for any failed attempt (a hub that keeps refusing is not retried faster; the backoff is not reset),
   * and never more than the longest backoff (a hub asking for an hour does not park the agent for an hour).
   */
  afterRefusal(retryAfterMs: number): number {
    const own = this.next();
    const asked = retryAfterMs + Math.round(this.random() * this.initialMs);
    return Math.min(this.maxMs, Math.max(own, asked));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; anything else (a negative or fractional number) is not a Retry-After.
  if (!/^[A-Za-z]{3}, /.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
