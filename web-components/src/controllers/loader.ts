import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type LoadState = 'idle' | 'loading' | 'ready' | 'error';

export interface LoaderOptions {
  /** Reload every this many ms while the element is connected and the page visible (0: never). */
  pollMs?: () => number;
}

/**
 * One asynchronous read with its state (loading, ready, error) for an element
 * to render; aborted when the element leaves the page or a newer load starts.
 * A poll keeps the previous value on screen while it refreshes, so a list does
 * not flicker to "loading" every few seconds.
 */
export class Loader<T> implements ReactiveController {
  state: LoadState = 'idle';
  value: T | undefined;
  error: Error | undefined;
  private abort: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly load: (signal: AbortSignal) => Promise<T>,
    private readonly options: LoaderOptions = {},
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    // Moved in the page or shown again: refresh and resume polling.
    if (this.state !== 'idle') void this.run(true);
  }

  hostDisconnected(): void {
    this.connected = false;
    this.abort?.abort();
    clearTimeout(this.timer);
  }

  /** Takes a value from elsewhere (the event stream): any load under way is dropped so it cannot overwrite it. */
  set(value: T): void {
    this.abort?.abort();
    this.value = value;
    this.error = undefined;
    this.state = 'ready';
    this.host.requestUpdate();
  }

  /** Starts a load; `quiet` keeps the current value and state while it runs (polls, refresh after an action). */
  async run(quiet = false): Promise<void> {
    this.abort?.abort();
    clearTimeout(this.timer);
    const abort = new AbortController();
    this.abort = abort;
    if (!quiet || this.state !== 'ready') {
      this.state = 'loading';
      this.host.requestUpdate();
    }
    try {
      const value = await this.load(abort.signal);
      if (abort.signal.aborted) return;
      this.value = value;
      this.error = undefined;
      this.state = 'ready';
    } catch (error) {
      if (abort.signal.aborted) return;
      this.error = error instanceof Error ? error : new Error(String(error));
      this.state = 'error';
    }
    this.host.requestUpdate();
    this.schedule();
  }

  private schedule(): void {
    const every = this.options.pollMs?.() ?? 0;
    if (!this.connected || every <= 0) return;
    this.timer = setTimeout(() => {
      // A hidden tab does not poll; it catches up when shown again.
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
        document.addEventListener('visibilitychange', () => void this.run(true), { once: true });
        return;
      }
      void this.run(true);
    }, every);
  }
}
