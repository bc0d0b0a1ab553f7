/**
 * Hub-side admission for agent connections (issue 25): a cap on sockets that are upgrading or upgraded but not yet
 * registered. A hub accepts WebSocket upgrades far faster than it completes registrations (measured: ~2,900 upgrades
 * against ~100 registrations a second on a loaded 2-core host), so after a restart a whole fleet's sockets would wait
 * inside the hub until the agents' timers dropped them and they came back with more work. Beyond the cap an upgrade
 * is answered `503` + `Retry-After` before anything else is done for it (no credential lookup, no WebSocket state).
 *
 * `Retry-After` is a place in a virtual queue: each refusal takes the next free slot, and slots are spaced by the
 * hub's registration rate (with `HEADROOM`, so the admitted places stay full while some refused agents come back
 * late), so the refused come back about as fast as the hub can register them, neither in a burst (which the kernel's
 * accept queue and the hub pay for) nor spread wider than needed (which lengthens the fleet's tail). The rate comes
 * from Little's law: places ÷ the mean time a place is held from admission to registration (over the last `WINDOW_S`
 * seconds; before any registration, at least `FIRST_HOLD_MS` or the age of the oldest waiting socket). It is an optimistic estimate when
 * the places are not all in use, which costs at most a few cheap refusals more. The agent adds up to a second of its
 * own jitter to the whole seconds. Beyond `MAX_RETRY_AFTER_S` (the agent's longest backoff) the queue is not
 * extended: those agents are spread over the second half of the horizon, come back, and take a slot then.
 *
 * A fair share per caller (security review of issue 25): one caller holds at most `PLACES_PER_CALLER` places, so a
 * single key or certificate (a compromised agent, or one stuck in a reconnect loop) cannot fill the cap and lock every
 * other agent out of reconnecting. The caller is what the hub can tell before any lookup (admission-caller.ts: the
 * TLS-verified client certificate, else the bearer key, else the source address), checked again against the agent the
 * credential names once it is looked up (`AdmissionTicket.identify`), so one agent's certificate and key together still
 * get one share. A caller over its share is answered `429` + `Retry-After` and takes no slot in the queue: the queue
 * is for the callers the hub has no place for, not for one caller knocking again.
 */

/** Seconds of history behind the registration rate. */
export const WINDOW_S = 10;
/** The longest `Retry-After`: the agent's own maximum backoff (agent/src/config/schema.ts, `reconnect.maxMs`). */
export const MAX_RETRY_AFTER_S = 60;
/** Slots are handed out this much faster than the measured rate: an agent that is late leaves no place empty. */
export const HEADROOM = 1.25;
/**
 * Before the window holds a registration, a place is taken to be held this long (a quiet 2-core host registers a
 * fleet at ~100 a second with 100 in flight, so about 1 s): the first burst of a restart is spread at 200 a second
 * with the default cap of 200, and the estimate follows the measured hold time from the first registration on.
 */
export const FIRST_HOLD_MS = 1_000;
/**
 * A place should be held no longer than this: well inside the hub's own registration deadline (10 s) and the agent's
 * patience (15 s for the upgrade, 30 s for `hub.registered`). On a starved host the configured cap can be more than
 * the hub registers in that time (measured: ~6 registrations a second at load 20-30 on 2 cores, so 200 places are
 * held ~33 s and the agents give up on sockets the hub is still working on), so the places in use shrink to what the
 * hub completes in this time, never below `MIN_PLACES`, never above the cap.
 */
export const TARGET_HOLD_MS = 5_000;
export const MIN_PLACES = 10;
/**
 * Unregistered places one caller may hold. An honest agent holds one socket at a time; the second covers its previous
 * attempt still open on the hub (the agent gave up on it, the hub has not seen the close yet). Only one socket per
 * identity can register (`claimIdentity`), so more places never help an honest agent; with a share this small, the
 * default cap of 200 fills only when 100 callers misbehave at once.
 */
export const PLACES_PER_CALLER = 2;
/**
 * How long an upgraded socket may stay silent before its `agent.register` (index.ts closes it 4408 after this): the
 * hub sends `hub.hello` at once and the agent answers it at once (agent/src/runtime/connection.ts: verify the hello,
 * sign the registration, send): one round trip and under 1 ms of CPU (measured 0.5-0.7 ms of CPU for pack-sdk's
 * decodeMessage + encodeMessage, RSA-2048 and Ed25519 agents). 5 s covers a slow WAN round trip and a busy agent host
 * many times over; a silent socket holds its place no longer. (The hub's own work after the frame arrived is bounded
 * separately by the gateway's registration deadline and `inUse`.)
 */
export const REGISTER_FRAME_MS = 5_000;

export interface AdmissionStats {
  /** The cap (0: no limit). */
  limit: number;
  /** Sockets upgrading or upgraded and not yet registered. */
  pending: number;
  /** Upgrades answered 503 since the hub started (the cap was reached). */
  refused: number;
  /** Upgrades answered 429 since the hub started: the caller already held `PLACES_PER_CALLER` places. */
  callerRefused: number;
}

/** A place in the gate: released once (registration done, or the socket gone), whichever comes first. */
export interface AdmissionTicket {
  /** `completed`: the hub finished a registration on it (counts towards the rate the slots are spaced by). */
  release(completed: boolean): void;
  /**
   * The credential was looked up and names `agentId`: the place counts towards that agent's share too. Refused (the
   * place is not counted for the agent; the caller answers 429 and the socket's close releases the place) when the agent
   * already holds its share under another caller key (its certificate on some sockets, its key on others).
   */
  identify(agentId: string): AdmissionRefusal | undefined;
}

/** `full`: no place for anyone (503, a slot in the queue). `caller`: this caller holds its share (429). */
export interface AdmissionRefusal {
  admitted: false;
  reason: 'full' | 'caller';
  retryAfterS: number;
}

export type AdmissionDecision = { admitted: true; ticket: AdmissionTicket } | AdmissionRefusal;

interface Place {
  at: number;
  released: boolean;
  /** The caller keys this place is counted under (the pre-lookup caller, then the agent). */
  callers: string[];
}

export class AdmissionGate {
  private pending = 0;
  private refusedTotal = 0;
  private callerRefusedTotal = 0;
  /** Places held per caller key; only callers holding a place have an entry (at most 2 × the cap). */
  private readonly held = new Map<string, number>();
  /** Per second of the window (index = second mod WINDOW_S): registrations completed and the ms their places were held. */
  private readonly completedBins = new Array<number>(WINDOW_S).fill(0);
  private readonly heldMsBins = new Array<number>(WINDOW_S).fill(0);
  private currentSecond: number;
  private readonly startedAt: number;
  /** Places in the order they were taken (released ones are dropped from the front): the oldest waiting socket. */
  private places: Place[] = [];
  private placesHead = 0;
  /** When the next refused agent is asked to come back (ms since the epoch). */
  private nextSlotAt = 0;

  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.startedAt = now();
    this.currentSecond = Math.floor(this.startedAt / 1000);
  }

  /**
   * One upgrade knocking, from `caller` (admission-caller.ts): a ticket, or the refusal with its `Retry-After` (seconds).
   * The share is checked first, so a caller over it never takes a slot in the queue.
   */
  enter(caller: string): AdmissionDecision {
    if (this.limit > 0 && (this.held.get(caller) ?? 0) >= PLACES_PER_CALLER) return this.callerRefusal();
    if (this.limit > 0 && this.pending >= this.inUse()) {
      this.refusedTotal += 1;
      return { admitted: false, reason: 'full', retryAfterS: this.slot() };
    }
    this.pending += 1;
    const place: Place = { at: this.now(), released: false, callers: [] };
    if (this.limit > 0) {
      this.places.push(place);
      this.hold(place, caller);
    }
    return {
      admitted: true,
      ticket: {
        identify: (agentId) => {
          const key = `agent:${agentId}`;
          if (this.limit <= 0 || place.released || place.callers.includes(key)) return undefined;
          if ((this.held.get(key) ?? 0) >= PLACES_PER_CALLER) return this.callerRefusal();
          this.hold(place, key);
          return undefined;
        },
        release: (completed) => {
          if (place.released) return;
          place.released = true;
          this.pending -= 1;
          for (const key of place.callers) {
            const count = (this.held.get(key) ?? 1) - 1;
            if (count > 0) this.held.set(key, count);
            else this.held.delete(key);
          }
          if (completed) {
            this.advance();
            const bin = this.currentSecond % WINDOW_S;
            this.completedBins[bin] += 1;
            this.heldMsBins[bin] += Math.max(0, this.now() - place.at);
          }
          this.dropReleased();
        },
      },
    };
  }

  stats(): AdmissionStats {
    return { limit: this.limit, pending: this.pending, refused: this.refusedTotal, callerRefused: this.callerRefusedTotal };
  }

  private hold(place: Place, key: string): void {
    place.callers.push(key);
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
  }

  /** A caller over its share: asked back once a place of its own can have gone (its silent sockets are closed by then). */
  private callerRefusal(): AdmissionRefusal {
    this.callerRefusedTotal += 1;
    return { admitted: false, reason: 'caller', retryAfterS: Math.ceil(REGISTER_FRAME_MS / 1000) };
  }

  /**
   * The places in use now: the cap, or fewer when the hub registers fewer than the cap in `TARGET_HOLD_MS` (registrations
   * completed in the window ÷ its seconds × the target); with none completed while a socket has waited past the target,
   * `MIN_PLACES`.
   */
  inUse(): number {
    if (this.limit <= 0) return 0;
    const { completed } = this.window();
    const floor = Math.min(MIN_PLACES, this.limit);
    if (completed === 0) return this.oldestAgeMs() > TARGET_HOLD_MS ? floor : this.limit;
    const elapsedS = Math.min(WINDOW_S, Math.max(1, (this.now() - this.startedAt) / 1000));
    return Math.min(this.limit, Math.max(floor, Math.ceil((completed / elapsedS) * (TARGET_HOLD_MS / 1000))));
  }

  /** Registrations a second the hub manages with its places in use: places ÷ mean time a place is held (Little's law). */
  ratePerSecond(): number {
    const { completed, heldMs } = this.window();
    // No registration in the window: a place is held at least as long as the oldest waiting socket has waited, and
    // (a hub just started, whose first burst would otherwise all be asked back in a second) at least `FIRST_HOLD_MS`.
    const meanHeldMs = completed > 0 ? heldMs / completed : Math.max(FIRST_HOLD_MS, this.oldestAgeMs());
    return (Math.max(this.inUse(), 1) / Math.max(meanHeldMs, 10)) * 1000;
  }

  private window(): { completed: number; heldMs: number } {
    this.advance();
    return {
      completed: this.completedBins.reduce((sum, n) => sum + n, 0),
      heldMs: this.heldMsBins.reduce((sum, n) => sum + n, 0),
    };
  }

  private oldestAgeMs(): number {
    return this.placesHead < this.places.length ? this.now() - this.places[this.placesHead].at : 0;
  }

  /** Seconds until the last slot handed out (0: no queue). */
  queueS(): number {
    return Math.max(0, (this.nextSlotAt - this.now()) / 1000);
  }

  /** The next free slot, as whole seconds from now (the agent adds up to a second of jitter). */
  private slot(): number {
    const now = this.now();
    const horizon = now + MAX_RETRY_AFTER_S * 1000;
    const at = Math.max(this.nextSlotAt, now);
    if (at >= horizon) {
      // The queue reaches past what an agent waits at most: spread these over the horizon's second half, queue unchanged.
      return Math.ceil(MAX_RETRY_AFTER_S / 2) + Math.floor(this.random() * Math.floor(MAX_RETRY_AFTER_S / 2 + 1));
    }
    this.nextSlotAt = at + 1000 / (this.ratePerSecond() * HEADROOM);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.floor((at - now) / 1000)));
  }

  private dropReleased(): void {
    while (this.placesHead < this.places.length && this.places[this.placesHead].released) this.placesHead += 1;
    if (this.placesHead > 1024 && this.placesHead * 2 > this.places.length) {
      this.places = this.places.slice(this.placesHead);
      this.placesHead = 0;
    }
  }

  /** Empties the bins of seconds that passed since the last call. */
  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const passed = Math.min(WINDOW_S, second - this.currentSecond);
    for (let i = 1; i <= passed; i++) {
      this.completedBins[(this.currentSecond + i) % WINDOW_S] = 0;
      this.heldMsBins[(this.currentSecond + i) % WINDOW_S] = 0;
    }
    if (second > this.currentSecond) this.currentSecond = second;
  }
}
