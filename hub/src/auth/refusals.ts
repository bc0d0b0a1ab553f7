import { FailureWindow, type AttemptCounter, type AttemptCounters } from './rate-limit.js';

/** Refusals (401/403/429) audited per source and minute, as for refused logins; the rest are logged only. */
export const AUDITED_REFUSALS_PER_MINUTE = 20;
/** Failed authentications (401, or an agent registration not bound to its connection) from one source before it is throttled. */
export const FAILURES_BEFORE_THROTTLE = 30;
export const REFUSAL_WINDOW_MS = 60_000;
/** Shared (NATS) counts waiting to be written before further failures are counted on this hub only. */
const MAX_SHARED_PENDING = 200;

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
 * chain. Counted in memory, and by every hub together when hubs are joined over NATS (`share`); the audit budget is
 * per hub process. Bounded in the number of sources.
 */
export class RefusalLimiter {
  private readonly failures: FailureWindow;
  private readonly audited: FailureWindow;
  private readonly windowMs: number;
  private readonly maxFailures: number;
  /** Hubs joined over NATS: failures counted by every hub together; a source blocked there is blocked here until then. */
  private shared: AttemptCounter | undefined;
  private readonly sharedBlock = new Map<string, number>();
  private sharedQueue: Promise<void> = Promise.resolve();
  private sharedPending = 0;

  constructor(options: RefusalLimiterOptions = {}) {
    const windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
    this.windowMs = windowMs;
    this.maxFailures = options.failuresBeforeThrottle ?? FAILURES_BEFORE_THROTTLE;
    this.failures = new FailureWindow(this.maxFailures, windowMs);
    this.audited = new FailureWindow(options.auditedPerMinute ?? AUDITED_REFUSALS_PER_MINUTE, windowMs);
  }

  /**
   * Counts failures with every hub too (`cluster.limits`, NATS KV). Only failures reach the shared counter; the check
   * on every request stays in memory: a source the shared count blocks is remembered here until its window ends. A
   * hub reads the shared count when it refuses a key itself, so N hubs allow at most the limit plus one per hub.
   */
  share(counters: AttemptCounters): void {
    this.shared = counters.window('refused', this.maxFailures, this.windowMs);
  }

  /** Milliseconds until `source` is served again, or 0. */
  throttledFor(source: string, now = Date.now()): number {
    const until = this.sharedBlock.get(source);
    if (until !== undefined && until <= now) this.sharedBlock.delete(source);
    return Math.max(this.failures.blockedFor(source, now), until !== undefined && until > now ? until - now : 0);
  }

  /** Records one failed authentication of `source` (counts towards its throttle). */
  failed(source: string, now = Date.now()): void {
    this.failures.fail(source, now);
    const shared = this.shared;
    // A queue this long means NATS is slow or a spray of sources: counted here only, as a single hub would.
    if (!shared || this.sharedPending >= MAX_SHARED_PENDING) return;
    // Not awaited: the refusal is answered at once; the shared verdict applies from the next request. One at a time,
    // so this hub never races its own compare-and-set on the same entry.
    this.sharedPending += 1;
    this.sharedQueue = this.sharedQueue
      .then(() => shared.fail(source))
      .then(() => shared.blockedFor(source))
      .then((ms) => {
        if (ms <= 0) return;
        if (this.sharedBlock.size >= 10_000) this.sharedBlock.delete(this.sharedBlock.keys().next().value!);
        this.sharedBlock.set(source, Date.now() + ms);
      })
      .catch(() => undefined)
      .finally(() => (this.sharedPending -= 1));
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
