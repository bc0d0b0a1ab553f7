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
   * throttle): what it asked (at least one initial interval) plus up to one initial interval of jitter, since the hint
   * is in whole seconds and the agents it gave the same second would otherwise come back together. The hub sizes the
   * hint to how fast it registers agents (hub/src/gateway/admission.ts), so the agent follows it rather than its own
   * draw, which after the failures of a hub restart may be a minute. A refusal is an answer from a live hub, so it
   * neither advances nor resets the backoff; it never waits more than the longest backoff (a hub asking for an hour
   * does not park the agent for an hour).
   */
  afterRefusal(retryAfterMs: number): number {
    const asked = Math.max(this.initialMs, retryAfterMs) + Math.round(this.random() * this.initialMs);
    return Math.min(this.maxMs, asked);
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
