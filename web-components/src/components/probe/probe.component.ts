import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Loader } from '../../controllers/loader.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AgentDetail, AgentView, ProbeAnswer, ProbeManifest } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';
import { styles } from './probe.styles.js';
import { readFields, renderFields } from './schema-form.js';
import { renderValue } from './result-view.js';

interface ProbeChoice {
  full: string;
  manifest: ProbeManifest;
}

/**
 * Runs one probe through the hub's REST API, under the caller's policy: pick
 * an agent and a probe, fill a form generated from the probe's params JSON
 * Schema, see the typed result (a table for lists of records, a tree
 * otherwise) and whether the agent truncated it.
 *
 * @summary Run a probe on an agent and read its result.
 * @event sonde-probe-result - The hub answered; detail `{ agent, probe, status, durationMs, truncated }`.
 * @csspart form - The parameter form.
 * @csspart result - The result area.
 * @csspart result-table - A tabular result.
 * @csspart truncated - The truncation marker.
 */
export class SondeProbe extends SondeElement {
  static override styles = [tokens, controls, styles];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    agent: { type: String, reflect: true },
    probe: { type: String, reflect: true },
    answer: { state: true },
    running: { state: true },
    runError: { state: true },
  };

  /** Agent name or id. */
  declare agent: string;
  /** Full probe name, e.g. `system.disk.usage`. */
  declare probe: string;
  declare private answer: ProbeAnswer | undefined;
  declare private running: boolean;
  declare private runError: string | undefined;

  private readonly agents = new Loader<AgentView[]>(this, (signal) => this.client.get<AgentView[]>('/api/v1/agents', signal));
  private readonly detail = new Loader<AgentDetail | undefined>(this, (signal) =>
    this.agent ? this.client.get<AgentDetail>(`/api/v1/agents/${seg(this.agent)}`, signal) : Promise.resolve(undefined),
  );

  constructor() {
    super();
    this.agent = '';
    this.probe = '';
    this.running = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const clientChanged = changed.has('hub') || changed.has('token');
    if (clientChanged || this.agents.state === 'idle') void this.agents.run();
    if (clientChanged || changed.has('agent') || this.detail.state === 'idle') void this.detail.run();
    if (changed.has('agent') || changed.has('probe')) {
      this.answer = undefined;
      this.runError = undefined;
    }
  }

  private probes(): ProbeChoice[] {
    const packs = this.detail.value?.packs ?? [];
    return packs
      .filter((p) => p.state === 'active' && p.manifest)
      .flatMap((p) => p.manifest!.probes.map((manifest) => ({ full: `${p.name}.${manifest.name}`, manifest })))
      .sort((a, b) => a.full.localeCompare(b.full));
  }

  private async run(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    if (!form.reportValidity()) return;
    this.runError = undefined;
    let params: Record<string, unknown>;
    try {
      params = readFields(form);
    } catch (error) {
      this.runError = (error as Error).message;
      return;
    }
    this.running = true;
    try {
      const answer = await this.client.post<ProbeAnswer>('/api/v1/probes', { agent: this.agent, probe: this.probe, params });
      this.answer = answer;
      this.emit('sonde-probe-result', {
        agent: answer.agent,
        probe: answer.probe,
        status: answer.status,
        durationMs: answer.durationMs,
        truncated: answer.truncated,
      });
    } catch (error) {
      this.answer = undefined;
      this.runError = (error as Error).message;
    } finally {
      this.running = false;
    }
  }

  protected override render(): unknown {
    const agents = this.agents.value ?? [];
    const probes = this.probes();
    const chosen = probes.find((p) => p.full === this.probe);
    return html`
      <h2>Run a probe</h2>
      ${
        this.agents.state === 'error'
          ? html`<div class="message error" role="alert">Could not load agents: ${this.agents.error?.message}</div>`
          : nothing
      }
      <div class="toolbar">
        <label
          >Agent
          <select
            name="agent"
            @change=${(e: Event) => {
              this.agent = (e.target as HTMLSelectElement).value;
              this.probe = '';
            }}
          >
            <option value="" ?selected=${!this.agent}>${this.agents.state === 'loading' ? 'loading…' : 'choose an agent'}</option>
            ${agents.map(
              (a) =>
                html`<option value=${a.name} ?selected=${this.agent === a.name || this.agent === a.id}>${a.name} (${a.status})</option>`,
            )}
          </select></label
        >
        <label
          >Probe
          <select name="probe" ?disabled=${!this.agent} @change=${(e: Event) => (this.probe = (e.target as HTMLSelectElement).value)}>
            <option value="" ?selected=${!this.probe}>
              ${this.detail.state === 'loading' ? 'loading…' : probes.length ? 'choose a probe' : 'no probes'}
            </option>
            ${probes.map((p) => html`<option value=${p.full} ?selected=${this.probe === p.full}>${p.full}</option>`)}
          </select></label
        >
      </div>
      ${
        this.detail.state === 'error'
          ? html`<div class="message error" role="alert">Could not load ${this.agent}: ${this.detail.error?.message}</div>`
          : nothing
      }
      ${
        this.agent && this.detail.state === 'ready' && probes.length === 0
          ? html`<div class="message">This agent serves no probes (no active pack).</div>`
          : nothing
      }
      ${
        chosen
          ? html`<p class="description">${chosen.manifest.description}</p>
              <form class="params" part="form" aria-label=${`Parameters of ${chosen.full}`} @submit=${(e: SubmitEvent) => void this.run(e)}>
                ${renderFields(chosen.manifest.params, 'param')}
                <button class="primary" type="submit" ?disabled=${this.running}>${this.running ? 'Running…' : 'Run probe'}</button>
              </form>`
          : nothing
      }
      ${this.runError ? html`<div class="message error" role="alert">${this.runError}</div>` : nothing}
      ${this.answer ? this.renderAnswer(this.answer) : nothing}
    `;
  }

  private renderAnswer(answer: ProbeAnswer): unknown {
    return html`<section class="result" part="result" aria-live="polite">
      <div class="meta">
        <strong class=${`status-${answer.status}`} data-status=${answer.status}>${answer.status}</strong>
        <span class="muted">${answer.agent} · ${answer.probe} · ${answer.durationMs} ms</span>
        ${
          answer.truncated
            ? html`<span class="truncated" part="truncated" role="note">Truncated: the agent cut this result at its output limit.</span>`
            : nothing
        }
      </div>
      ${answer.error ? html`<div class="message error"><code>${answer.error.code}</code> ${answer.error.message}</div>` : nothing}
      ${answer.result !== undefined ? renderValue(answer.result) : nothing}
    </section>`;
  }
}
