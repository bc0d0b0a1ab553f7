import { ContextProvider } from '@lit/context';
import { html, type PropertyDeclarations } from 'lit';
import { hubClientContext } from '../../controllers/context.js';
import { HubClient } from '../../controllers/hub-client.js';
import { SondeElement } from '../../internal/sonde-element.js';

/**
 * Shares one hub connection (`hub`, `token`, `fetchToken`) with every Sonde
 * element inside it, so a page sets them once.
 *
 * @summary Shares one hub client with the elements inside it.
 * @slot - Sonde elements (any depth).
 */
export class SondeProvider extends SondeElement {
  static override properties: PropertyDeclarations = { ...SondeElement.properties };
  private readonly provider = new ContextProvider(this, { context: hubClientContext, initialValue: undefined });

  protected override willUpdate(): void {
    const client = new HubClient({ hub: this.hub, token: this.token, fetchToken: this.fetchToken });
    if (!this.provider.value || !this.provider.value.sameAs({ hub: this.hub, token: this.token, fetchToken: this.fetchToken }))
      this.provider.setValue(client);
  }

  protected override render(): unknown {
    return html`<slot></slot>`;
  }
}
