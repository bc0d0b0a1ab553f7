import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AgentView } from '../internal/types.js';
import { eventsOf, type HubEvent, type StreamState } from './event-stream.js';
import type { HubClient } from './hub-client.js';
import type { Loader } from './loader.js';

/**
 * Keeps an element's agent list (a `Loader` of `/api/v1/agents`) current from
 * the hub's event stream: the snapshot replaces it, each `agent` or
 * `agent-removed` event patches it. `live` says whether the stream carries the
 * changes right now, so the element polls only while it does not (an older
 * hub, a refused caller, a dropped connection); when the stream goes away the
 * poll starts again at once.
 */
export class LiveAgents implements ReactiveController {
  private state: StreamState | undefined;
  private followed: { client: HubClient; stop: () => void } | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { readonly isConnected: boolean },
    private readonly agents: Loader<AgentView[]>,
    private readonly client: () => HubClient,
  ) {
    host.addController(this);
  }

  get live(): boolean {
    return this.state === 'live';
  }

  hostConnected(): void {}

  /** Called from the host's `willUpdate`: follows the stream of the client the element uses now. */
  hostUpdate(): void {
    const client = this.client();
    if (this.followed?.client === client) return;
    this.followed?.stop();
    this.state = undefined;
    const stop = eventsOf(client).subscribe({
      event: (event) => this.apply(event),
      state: (state) => {
        const was = this.state;
        this.state = state;
        if (was === 'live' && state !== 'live' && this.host.isConnected) void this.agents.run(true);
      },
    });
    this.followed = { client, stop };
  }

  hostDisconnected(): void {
    this.followed?.stop();
    this.followed = undefined;
    this.state = undefined;
  }

  private apply(event: HubEvent): void {
    let list: AgentView[];
    if (event.type === 'snapshot') list = [...event.agents];
    else if (event.type === 'agent') {
      list = (this.agents.value ?? []).filter((agent) => agent.id !== event.agent.id);
      list.push(event.agent);
    } else if (event.type === 'agent-removed') list = (this.agents.value ?? []).filter((agent) => agent.id !== event.id);
    else return;
    this.agents.set(list.sort((a, b) => a.name.localeCompare(b.name)));
  }
}
