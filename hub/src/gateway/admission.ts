/**
 * Hub-side admission for agent connections (issue 25): a cap on sockets that are upgrading or upgraded but not yet
 * registered. A hub accepts WebSocket upgrades far faster than it completes registrations (measured: ~2,900 upgrades
 * against ~100 registrations a second on a loaded 2-core host), so after a restart a whole fleet's sockets would wait
 * inside the hub until the agents' timers dropped them and they came back with more work. Beyond the cap an upgrade
 * is answered `503` + `Retry-After` before anything else is done for it (no credential lookup, no WebSocket state).
 *
 * `Retry-After` is drawn uniformly from whole seconds in [1, spread], so refused agents do not come back together.
 * The spread follows the backlog: the refusals of the last `WINDOW_S` seconds over the registrations completed in
 * them (the seconds the hub needs to get through the agents that are waiting), at least `MIN_SPREAD_S`, at most
 * `MAX_RETRY_AFTER_S` (the agent's longest backoff). An agent refused again counts again, so the estimate settles
 * near √(window × waiting ÷ rate) rather than waiting ÷ rate: below the drain time for a large fleet (the refused come
 * back somewhat faster than they can be served and a few are refused again, cheaply) and never above the 60 s cap.
 */

/** Seconds of history behind the spread of `Retry-After`. */
export const WINDOW_S = 10;
/** The narrowest spread: even a small excess is not sent back in one second. */
export const MIN_SPREAD_S = 2;
/** The longest `Retry-After`: the agent's own maximum backoff (agent/src/config/schema.ts, `reconnect.maxMs`). */
export const MAX_RETRY_AFTER_S = 60;

export interface AdmissionStats {
  /** The cap (0: no limit). */
  limit: number;
  /** Sockets upgrading or upgraded and not yet registered. */
  pending: number;
  /** Upgrades answered 503 since the hub started. */
  refused: number;
}

/** A place in the gate: released once (registration done, or the socket gone), whichever comes first. */
export interface AdmissionTicket {
  /** `completed`: the hub finished a registration on it (counts towards the rate the spread is computed from). */
  release(completed: boolean): void;
}

export type AdmissionDecision = { admitted: true; ticket: AdmissionTicket } | { admitted: false; retryAfterS: number };

export class AdmissionGate {
  private pending = 0;
  private refusedTotal = 0;
  /** Per second of the window (index = second mod WINDOW_S): refusals and completed registrations. */
  private readonly refusedBins = new Array<number>(WINDOW_S).fill(0);
  private readonly completedBins = new Array<number>(WINDOW_S).fill(0);
  private currentSecond: number;
  private readonly startedAt: number;

  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.startedAt = now();
    this.currentSecond = Math.floor(this.startedAt / 1000);
  }

  /** One upgrade knocking: a ticket, or the `Retry-After` (seconds) to answer with. */
  enter(): AdmissionDecision {
    if (this.limit > 0 && this.pending >= this.limit) {
      this.refusedTotal += 1;
      this.advance();
      this.refusedBins[this.currentSecond % WINDOW_S] += 1;
      return { admitted: false, retryAfterS: 1 + Math.floor(this.random() * this.spreadS()) };
    }
    this.pending += 1;
    let released = false;
    return {
      admitted: true,
      ticket: {
        release: (completed) => {
          if (released) return;
          released = true;
          this.pending -= 1;
          if (completed) {
            this.advance();
            this.completedBins[this.currentSecond % WINDOW_S] += 1;
          }
        },
      },
    };
  }

  stats(): AdmissionStats {
    return { limit: this.limit, pending: this.pending, refused: this.refusedTotal };
  }

  /** Seconds over which the refused are spread: waiting agents (refusals in the window) ÷ registrations per second. */
  spreadS(): number {
    this.advance();
    const refused = this.refusedBins.reduce((sum, n) => sum + n, 0);
    const completed = this.completedBins.reduce((sum, n) => sum + n, 0);
    // A hub that just started has less than a window of history (the first half second counts as half a second, so
    // the first refusals are not spread over a minute for want of data); before any registration the rate is 1/s.
    const elapsedS = Math.min(WINDOW_S, Math.max(0.5, (this.now() - this.startedAt) / 1000));
    const perSecond = Math.max(1, completed / elapsedS);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_SPREAD_S, Math.ceil(refused / perSecond)));
  }

  /** Empties the bins of seconds that passed since the last call. */
  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const passed = Math.min(WINDOW_S, second - this.currentSecond);
    for (let i = 1; i <= passed; i++) {
      this.refusedBins[(this.currentSecond + i) % WINDOW_S] = 0;
      this.completedBins[(this.currentSecond + i) % WINDOW_S] = 0;
    }
    if (second > this.currentSecond) this.currentSecond = second;
  }
}
