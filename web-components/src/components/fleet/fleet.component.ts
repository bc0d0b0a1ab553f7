import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { styleProps } from '../../internal/style-props.js';
import { LiveAgents } from '../../controllers/live-agents.js';
import { Loader } from '../../controllers/loader.js';
import { compareVersions, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AgentStatus, AgentView } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';
import { styles } from './fleet.styles.js';

const ROW_HEIGHT = 44;
const OVERSCAN = 6;

/**
 * The fleet: every agent with its status (and why it is degraded), OS, agent
 * version (flagged when older than the newest in the fleet), packs and last
 * contact. Search, filter by status and pack. The list is virtualised: only
 * the rows in view (plus a few) are in the DOM, so 1,000 agents cost ~20 rows.
 * Live: follows the hub's event stream (`GET /api/v1/events`: a snapshot, then one event per changed agent);
 * where the stream is unavailable (an older hub, a refused caller) it polls (`poll-interval`, default 3 s, so
 * a change shows within 5 s). Keeps the scroll position and focus across updates.
 *
 * @summary Agents with status, search and filters; live and virtualised.
 * @event sonde-agent-select - A row was activated (click, Enter); detail `{ id, name }`.
 * @csspart toolbar - Search and filter controls.
 * @csspart search - The search input.
 * @csspart viewport - The scrolling list.
 * @csspart row - One agent row.
 * @csspart status - The status cell of a row.
 * @cssproperty --sonde-fleet-height - Height of the scrolling list (default 480px).
 */
export class SondeFleet extends SondeElement {
  static override styles = [tokens, controls, styles];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    pollInterval: { type: Number, attribute: 'poll-interval' },
    search: { type: String },
    status: { type: String },
    pack: { type: String },
  };

  /** Refresh period in ms (default 3000; 0 stops polling). */
  declare pollInterval: number;
  /** Text filter on name, OS, version and reasons. */
  declare search: string;
  /** Only agents with this status (`online`, `offline`, `degraded`; empty for all). */
  declare status: '' | AgentStatus;
  /** Only agents that report this pack. */
  declare pack: string;
  /** Scroll offset and height of the list: which rows are rendered (plain fields; updates are requested by hand). */
  private offset = 0;
  private viewportHeight = 480;
  private resizer: ResizeObserver | undefined;

  private readonly agents = new Loader<AgentView[]>(this, (signal) => this.client.get<AgentView[]>('/api/v1/agents', signal), {
    // The stream carries every change while it is live: no polling then.
    pollMs: (): number => (this.live.live ? 0 : this.pollInterval),
  });
  private readonly live: LiveAgents = new LiveAgents(this, this.agents, () => this.client);

  constructor() {
    super();
    this.pollInterval = 3000;
    this.search = '';
    this.status = '';
    this.pack = '';
  }

  /** Reloads now (after an enrollment, say). */
  refresh(): Promise<void> {
    return this.agents.run(true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizer?.disconnect();
    this.resizer = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.agents.state === 'idle') void this.agents.run();
  }

  private filtered(all: AgentView[]): AgentView[] {
    const needle = this.search.trim().toLowerCase();
    return all.filter(
      (agent) =>
        (!this.status || agent.status === this.status) &&
        (!this.pack || agent.packs.some((p) => p.name === this.pack)) &&
        (!needle ||
          [agent.name, agent.os ?? '', agent.agentVersion ?? '', ...agent.reasons].some((text) => text.toLowerCase().includes(needle))),
    );
  }

  private readonly onScroll = (event: Event): void => {
    this.offset = (event.target as HTMLElement).scrollTop;
    this.requestUpdate();
  };

  private select(agent: AgentView): void {
    this.emit('sonde-agent-select', { id: agent.id, name: agent.name });
  }

  private onRowKey(event: KeyboardEvent, agent: AgentView, index: number, count: number): void {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.select(agent);
      return;
    }
    const step = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -count, End: count }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const target = Math.max(0, Math.min(count - 1, index + step));
    const viewport = this.renderRoot.querySelector<HTMLElement>('.viewport');
    if (!viewport) return;
    // Bring the row into the rendered window first, then focus it.
    const top = target * ROW_HEIGHT;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight - 36)
      viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight + 36;
    this.offset = viewport.scrollTop;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`[data-index="${target}"]`)?.focus());
  }

  protected override render(): unknown {
    const { state, value, error } = this.agents;
    const all = value ?? [];
    const packs = [...new Set(all.flatMap((a) => a.packs.map((p) => p.name)))].sort();
    const newest = all.reduce<string | null>(
      (best, a) => (a.agentVersion && (!best || compareVersions(a.agentVersion, best) > 0) ? a.agentVersion : best),
      null,
    );
    const rows = this.filtered(all);
    const online = all.filter((a) => a.status !== 'offline').length;
    return html`
      <div class="toolbar" part="toolbar">
        <label
          >Search
          <input
            part="search"
            type="search"
            placeholder="name, OS, version…"
            .value=${this.search}
            @input=${(e: Event) => (this.search = (e.target as HTMLInputElement).value)}
        /></label>
        <label
          >Status
          <select @change=${(e: Event) => (this.status = (e.target as HTMLSelectElement).value as '' | AgentStatus)}>
            ${['', 'online', 'degraded', 'offline'].map(
              (s) => html`<option value=${s} ?selected=${this.status === s}>${s || 'all'}</option>`,
            )}
          </select></label
        >
        <label
          >Pack
          <select @change=${(e: Event) => (this.pack = (e.target as HTMLSelectElement).value)}>
            <option value="" ?selected=${!this.pack}>any</option>
            ${packs.map((p) => html`<option value=${p} ?selected=${this.pack === p}>${p}</option>`)}
          </select></label
        >
        <span class="summary" role="status" aria-live="polite"
          >${value ? `${online} of ${all.length} online${rows.length !== all.length ? ` · ${rows.length} shown` : ''}` : ''}</span
        >
      </div>
      ${
        state === 'error'
          ? html`<div class="message error" role="alert">
              Could not load the fleet: ${error?.message}${value ? ' (showing the last list)' : ''}
            </div>`
          : nothing
      }
      ${
        !value
          ? state === 'error'
            ? nothing
            : html`<div class="message" aria-busy="true">Loading agents…</div>`
          : this.renderList(rows, newest)
      }
    `;
  }

  private renderList(rows: AgentView[], newest: string | null): unknown {
    const first = Math.max(0, Math.floor(this.offset / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((this.offset + this.viewportHeight) / ROW_HEIGHT) + OVERSCAN);
    const visible = rows.slice(first, last);
    return html`<div
      class="viewport"
      part="viewport"
      role="table"
      aria-label="Agents"
      aria-rowcount=${rows.length + 1}
      style=${styleProps({ '--row-height': `${ROW_HEIGHT}px` })}
      @scroll=${this.onScroll}
    >
      <div class="head" role="row" aria-rowindex="1">
        <span role="columnheader">Agent</span><span role="columnheader">Status</span><span role="columnheader">OS</span
        ><span role="columnheader">Version</span><span role="columnheader">Packs</span><span role="columnheader">Last seen</span>
      </div>
      ${
        rows.length === 0
          ? html`<div class="empty">
              ${this.search || this.status || this.pack ? 'No agent matches the filters.' : 'No agents enrolled yet.'}
            </div>`
          : html`<div style=${styleProps({ position: 'relative', height: `${rows.length * ROW_HEIGHT}px` })}>
              ${visible.map((agent, i) => {
                const index = first + i;
                const outdated = newest !== null && agent.agentVersion !== null && compareVersions(agent.agentVersion, newest) < 0;
                return html`<div
                  class="row"
                  part="row"
                  role="row"
                  tabindex="0"
                  data-index=${index}
                  data-agent=${agent.name}
                  aria-rowindex=${index + 2}
                  style=${styleProps({ top: `${index * ROW_HEIGHT}px` })}
                  @click=${() => this.select(agent)}
                  @keydown=${(e: KeyboardEvent) => this.onRowKey(e, agent, index, rows.length)}
                >
                  <span class="cell name" role="cell" title=${agent.name}>${agent.name}</span>
                  <span class="cell" role="cell" part="status" data-status=${agent.status} title=${agent.reasons.join('\n')}
                    ><span class="dot ${agent.status}"></span>${agent.status}</span
                  >
                  <span class="cell" role="cell" title=${agent.reasons.join('\n') || (agent.os ?? '')}
                    >${agent.reasons.length ? html`<span class="reason">${agent.reasons[0]}</span>` : (agent.os ?? '—')}</span
                  >
                  <span class="cell" role="cell"
                    >${agent.agentVersion ?? '—'}${outdated ? html`<span class="flag" title=${`newest in fleet: ${newest}`}>outdated</span>` : nothing}</span
                  >
                  <span class="cell" role="cell" title=${agent.packs.map((p) => `${p.name}@${p.version} ${p.state}`).join('\n')}
                    >${agent.packs.length} ${agent.packs.some((p) => p.pending) ? html`<span class="flag">pending</span>` : nothing}</span
                  >
                  <span class="cell" role="cell" title=${agent.lastSeenAt ?? ''}>${relative(agent.lastSeenAt)}</span>
                </div>`;
              })}
            </div>`
      }
    </div>`;
  }
}
