import { FailureWindow } from './rate-limit.js';

/** Refusals (401/403/429) audited per source and minute, as for refused logins; the rest are logged only. */
export const AUDITED_REFUSALS_PER_MINUTE = 20;
/** Failed authentications (401, or an agent registration not bound to its connection) from one source before it is throttled. */
export const FAILURES_BEFORE_THROTTLE = 30;
export const REFUSAL_WINDOW_MS = 60_000;

export interface RefusalLimiterOptions {
  auditedPerMinute?: number;
  failuresBeforeThrottle?: number;
  windowMs?: number;
}

/**
 * One account per source address of what it was refused, for every door outside the login form (REST, `/mcp`,
 * the agent WebSocket upgrade, embed, the event stream): a source that keeps failing authentication is answered
 * 429 (with `Retry-After`) until its window ends, whatever credential it then presents, and its refusals reach the
 * audit chain at most `auditedPerMinute` times a minute, so a flood of bad keys can neither guess on nor fill the
 * chain. In memory, per hub process (like the login's `FailureWindow`s); bounded in the number of sources.
 */
export class RefusalLimiter {
  private readonly failures: FailureWindow;
  private readonly audited: FailureWindow;

  constructor(options: RefusalLimiterOptions = {}) {
    const windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
    this.failures = new FailureWindow(options.failuresBeforeThrottle ?? FAILURES_BEFORE_THROTTLE, windowMs);
    this.audited = new FailureWindow(options.auditedPerMinute ?? AUDITED_REFUSALS_PER_MINUTE, windowMs);
  }

  /** Milliseconds until `source` is served again, or 0. */
  throttledFor(source: string, now = Date.now()): number {
    return this.failures.blockedFor(source, now);
  }

  /** Records one failed authentication of `source` (counts towards its throttle). */
  failed(source: string, now = Date.now()): void {
    this.failures.fail(source, now);
  }

  /** Whether one more refusal of `source` may be written to the audit chain this window (and takes that slot). */
  mayAudit(source: string, now = Date.now()): boolean {
    if (this.audited.blockedFor(source, now) > 0) return false;
    this.audited.fail(source, now);
    return true;
  }

  /** A refusal: counted when `authFailure`, and whether it may be audited. */
  refused(source: string, authFailure: boolean, now = Date.now()): boolean {
    if (authFailure) this.failed(source, now);
    return this.mayAudit(source, now);
  }
}
