import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * What an element does when the user changes something on the hub: one
 * request at a time (`busy` disables the buttons), its error kept for an
 * alert, and the element's reads refreshed afterwards whatever happened, so
 * the screen shows the hub's state rather than a guess. The companion of
 * `Loader`, which does the reads.
 */
export class Action implements ReactiveController {
  busy = false;
  /** The last action's error message, cleared when the next one starts. */
  error: string | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    /** The reads to refresh after every action (quietly: the current values stay on screen). */
    private readonly reload: () => Promise<unknown>,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  async run(work: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    this.error = undefined;
    this.host.requestUpdate();
    try {
      await work();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
      this.host.requestUpdate();
      await this.reload();
    }
  }
}
