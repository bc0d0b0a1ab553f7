import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { IntegrationInstanceView, IntegrationPackView } from '../internal/types.js';
import { eventsOf, type HubEvent } from './event-stream.js';
import type { HubClient } from './hub-client.js';
import type { Loader } from './loader.js';

/**
 * Keeps the integrations screen current from the hub's event stream: the
 * snapshot's integration packs replace the list, each `integration` or
 * `integration-removed` event patches it (an approval by another admin, an
 * install on the hub, a pack loaded after approval), and an
 * `integration.instance.*` audit entry reloads the instances (their
 * connection status comes from Test Connection). A hub or caller without the
 * stream leaves the element as it was: it reloads after its own actions.
 */
export class LiveIntegrations implements ReactiveController {
  private followed: { client: HubClient; stop: () => void } | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { readonly isConnected: boolean },
    private readonly packs: Loader<IntegrationPackView[]>,
    private readonly instances: Loader<IntegrationInstanceView[]>,
    private readonly client: () => HubClient,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  /** Follows the stream of the client the element uses now (called before each update). */
  hostUpdate(): void {
    const client = this.client();
    if (this.followed?.client === client) return;
    this.followed?.stop();
    const stop = eventsOf(client).subscribe({ event: (event) => this.apply(event) });
    this.followed = { client, stop };
  }

  hostDisconnected(): void {
    this.followed?.stop();
    this.followed = undefined;
  }

  private apply(event: HubEvent): void {
    let list: IntegrationPackView[];
    if (event.type === 'snapshot') {
      if (!event.integrations) return;
      list = [...event.integrations];
    } else if (event.type === 'integration') {
      list = (this.packs.value ?? []).filter((pack) => pack.name !== event.pack.name);
      list.push(event.pack);
    } else if (event.type === 'integration-removed') {
      list = (this.packs.value ?? []).filter((pack) => pack.name !== event.name);
    } else {
      if (event.type === 'audit' && event.entry.action.startsWith('integration.instance.') && this.host.isConnected)
        void this.instances.run(true);
      return;
    }
    this.packs.set(list.sort((a, b) => a.name.localeCompare(b.name)));
  }
}
