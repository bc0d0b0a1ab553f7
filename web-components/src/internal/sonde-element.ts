import { ContextConsumer } from '@lit/context';
import { LitElement, type PropertyDeclarations } from 'lit';
import { hubClientContext } from '../controllers/context.js';
import { HubClient } from '../controllers/hub-client.js';
import type { SondeEventMap } from '../events/index.js';
import { VERSION } from '../version.js';

/**
 * Base of every Sonde element: where the hub client comes from, the theme
 * attribute, typed events. A client comes from (in order) the element's own
 * `hub`/`token` attributes, the nearest `<sonde-provider>`/`<sonde-app>`
 * above it, or the page's own origin with the session cookie.
 */
export class SondeElement extends LitElement {
  static override properties: PropertyDeclarations = {
    hub: { type: String },
    token: { type: String },
    theme: { type: String, reflect: true },
  };

  /** The version this class was built as; `define` warns when another version already holds a tag. */
  static readonly sondeVersion = VERSION;
  /** Tag prefix this class was registered under (set by `defineSonde`). */
  static sondePrefix = 'sonde';

  /** Hub base URL, e.g. `https://hub.example.com` (default: this page's origin). */
  declare hub: string | undefined;
  /** An API key or embed token sent as Bearer (default: the dashboard session cookie). */
  declare token: string | undefined;
  /** `light`, `dark`, or unset to follow `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;
  /** Returns a fresh token when the hub answers 401 (portal-minted embed tokens). */
  fetchToken: (() => Promise<string>) | undefined;

  private readonly provided = new ContextConsumer(this, { context: hubClientContext, subscribe: true });
  private own: HubClient | undefined;

  /** The client this element uses for every request. */
  get client(): HubClient {
    const options = { hub: this.hub, token: this.token, fetchToken: this.fetchToken };
    if (this.hub || this.token || this.fetchToken) {
      if (!this.own || !this.own.sameAs(options)) this.own = new HubClient(options);
      return this.own;
    }
    if (this.provided.value) return this.provided.value;
    this.own ??= new HubClient();
    return this.own;
  }

  /** The registered tag of a sibling element under this element's prefix (e.g. `fleet` → `sonde-fleet`). */
  tagFor(name: string): string {
    return `${(this.constructor as typeof SondeElement).sondePrefix}-${name}`;
  }

  /** Dispatches a typed event that bubbles out of shadow roots. */
  emit<K extends keyof SondeEventMap>(name: K, detail: SondeEventMap[K]): boolean {
    return this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: true }));
  }
}
