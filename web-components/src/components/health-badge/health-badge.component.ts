import { html, type PropertyDeclarations, type PropertyValues } from 'lit';
import { LiveAgents } from '../../controllers/live-agents.js';
import { Loader } from '../../controllers/loader.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AgentView } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';
import { styles } from './health-badge.styles.js';

/**
 * A tiny fleet summary for a portal home page: agents online of total, and
 * how many are degraded. Live from the hub's event stream; polls (one small
 * request) only where the stream is unavailable.
 *
 * @summary Fleet summary: online/total and degraded count.
 * @csspart badge - The pill around the summary.
 * @csspart online - The "online/total" count.
 * @csspart degraded - The degraded count (only when some are).
 * @cssproperty --sonde-color-online - Colour of the online dot.
 * @cssproperty --sonde-color-degraded - Colour of the degraded count.
 */
export class SondeHealthBadge extends SondeElement {
  static override styles = [tokens, controls, styles];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    pollInterval: { type: Number, attribute: 'poll-interval' },
  };

  /** Refresh period in ms (default 15000; 0 stops polling). */
  declare pollInterval: number;

  private readonly agents = new Loader<AgentView[]>(this, (signal) => this.client.get<AgentView[]>('/api/v1/agents', signal), {
    pollMs: (): number => (this.live.live ? 0 : this.pollInterval),
  });
  private readonly live: LiveAgents = new LiveAgents(this, this.agents, () => this.client);

  constructor() {
    super();
    this.pollInterval = 15_000;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.agents.state === 'idle') void this.agents.run();
  }

  protected override render(): unknown {
    const { state, value, error } = this.agents;
    if (state === 'error' && !value)
      return html`<span part="badge" class="badge error" role="status" title=${error?.message ?? ''}>Fleet unavailable</span>`;
    if (!value) return html`<span part="badge" class="badge" role="status" aria-busy="true">Fleet …</span>`;
    const online = value.filter((a) => a.status !== 'offline').length;
    const degraded = value.filter((a) => a.status === 'degraded').length;
    return html`<span
      part="badge"
      class="badge"
      role="status"
      aria-label=${`${online} of ${value.length} agents online, ${degraded} degraded`}
    >
      <span part="online"><span class="dot ${online ? 'online' : ''}"></span>${online}/${value.length} online</span>
      ${degraded ? html`<span part="degraded" class="degraded">${degraded} degraded</span>` : null}
    </span>`;
  }
}
