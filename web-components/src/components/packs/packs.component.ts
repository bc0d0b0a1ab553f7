import { css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { field } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AgentView, PackStatus } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';

interface RevocationState {
  list: {
    serial: number;
    issuedAt?: string;
    keyId: string;
    keys: Array<{ keyId: string; reason?: string }>;
    packs: Array<{ pack: string; versions: string; reason?: string }>;
  } | null;
  key: { keyId: string };
}

interface VersionRow {
  pack: string;
  version: string;
  state: PackStatus['state'];
  agents: string[];
}

/**
 * The fleet's packs: which version runs where (by state), everything that
 * waits for approval across agents (approve pinned to the reviewed version
 * and digest, as on the agent page), and the hub-signed revocation list with
 * a form to revoke pack versions.
 *
 * @summary Fleet-wide pack versions, pending approvals and revocations.
 * @event sonde-agent-select - An agent name was activated; detail `{ id, name }`.
 * @csspart versions - Pack versions by agent.
 * @csspart pending - Pending approvals across agents.
 * @csspart revocations - The revocation list.
 */
export class SondePacks extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      .agents button {
        border: none;
        background: none;
        color: var(--s-accent);
        padding: 0 4px 0 0;
        min-height: auto;
        text-decoration: underline;
      }
      ul.added {
        margin: 0;
        padding-left: 1.2em;
        font-size: 0.9em;
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
  };

  private readonly agents = new Loader<AgentView[]>(this, (signal) => this.client.get<AgentView[]>('/api/v1/agents', signal));
  private readonly revocations = new Loader<RevocationState>(this, (signal) =>
    this.client.get<RevocationState>('/api/v1/revocations', signal),
  );
  private readonly action = new Action(this, () => Promise.all([this.agents.run(true), this.revocations.run(true)]));

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.agents.state === 'idle') {
      void this.agents.run();
      void this.revocations.run();
    }
  }

  private versions(agents: AgentView[]): VersionRow[] {
    const rows = new Map<string, VersionRow>();
    for (const agent of agents)
      for (const pack of agent.packs) {
        const key = `${pack.name}\u0000${pack.version}\u0000${pack.state}`;
        const row = rows.get(key) ?? { pack: pack.name, version: pack.version, state: pack.state, agents: [] };
        row.agents.push(agent.name);
        rows.set(key, row);
      }
    return [...rows.values()].sort((a, b) => a.pack.localeCompare(b.pack) || b.version.localeCompare(a.version));
  }

  private revoke(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const pack = field(data, 'pack');
    const versions = field(data, 'versions');
    const reason = field(data, 'reason');
    if (!confirm(`Revoke ${pack} ${versions} on every agent? Agents stop serving it as soon as they receive the list.`)) return;
    void this.action.run(async () => {
      await this.client.post('/api/v1/revocations', { packs: [{ pack, versions, ...(reason ? { reason } : {}) }] });
      form.reset();
    });
  }

  private agentLink(name: string, agents: AgentView[]): unknown {
    const agent = agents.find((a) => a.name === name);
    return html`<button type="button" @click=${() => agent && this.emit('sonde-agent-select', { id: agent.id, name })}>${name}</button>`;
  }

  protected override render(): unknown {
    const agents = this.agents.value ?? [];
    const versions = this.versions(agents);
    const pending = agents.flatMap((agent) =>
      agent.packs.filter((p) => p.pending).map((pack) => ({ agent, pack, pending: pack.pending! })),
    );
    const list = this.revocations.value?.list;
    return html`
      <h2>Packs</h2>
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${this.agents.state === 'error' ? html`<div class="message error" role="alert">Could not load the fleet: ${this.agents.error?.message}</div>` : nothing}
      ${!this.agents.value && this.agents.state !== 'error' ? html`<div class="message" aria-busy="true">Loading packs…</div>` : nothing}
      ${this.agents.value && versions.length === 0 ? html`<div class="message">No agent reports a pack yet.</div>` : nothing}
      ${
        versions.length
          ? html`<table part="versions">
              <thead>
                <tr>
                  <th scope="col">Pack</th>
                  <th scope="col">Version</th>
                  <th scope="col">State</th>
                  <th scope="col">Agents</th>
                </tr>
              </thead>
              <tbody>
                ${versions.map(
                  (row) =>
                    html`<tr data-pack=${row.pack} data-version=${row.version}>
                      <td>${row.pack}</td>
                      <td>${row.version}</td>
                      <td>${row.state}</td>
                      <td class="agents">
                        ${row.agents.length} ·
                        ${row.agents.slice(0, 8).map((name) => this.agentLink(name, agents))}${
                          row.agents.length > 8 ? html`<span class="muted">+${row.agents.length - 8} more</span>` : nothing
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : nothing
      }
      <h3>Waiting for approval</h3>
      ${
        pending.length === 0
          ? html`<div class="muted">Nothing waits for approval.</div>`
          : html`<table part="pending">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Pack</th>
                  <th scope="col">Version</th>
                  <th scope="col">Asks in addition for</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${pending.map(
                  ({ agent, pack, pending: p }) =>
                    html`<tr data-pending=${`${agent.name}/${pack.name}`}>
                      <td class="agents">${this.agentLink(agent.name, agents)}</td>
                      <td>${pack.name}</td>
                      <td>${p.version} <code class="muted">${p.permissionsSha256.slice(0, 12)}…</code></td>
                      <td>
                        ${
                          p.added.length
                            ? html`<ul class="added">
                                ${p.added.map((a) => html`<li>${a}</li>`)}
                              </ul>`
                            : html`<span class="muted">first install: see the agent page for everything it asks for</span>`
                        }
                      </td>
                      <td>
                        <button
                          type="button"
                          class="primary"
                          ?disabled=${this.action.busy || !agent.connected}
                          aria-label=${`Approve ${pack.name} ${p.version} on ${agent.name}`}
                          @click=${() =>
                            void this.action.run(() =>
                              this.client.post(`/api/v1/agents/${seg(agent.id)}/packs/${seg(pack.name)}/approve`, {
                                version: p.version,
                                permissionsSha256: p.permissionsSha256,
                              }),
                            )}
                        >
                          Approve
                        </button>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h3>Revocations</h3>
      ${
        this.revocations.state === 'error'
          ? html`<div class="message error" role="alert">Could not load revocations: ${this.revocations.error?.message}</div>`
          : nothing
      }
      <div part="revocations">
        ${
          list
            ? html`<p class="muted">
                  List serial ${list.serial}${list.issuedAt ? `, signed ${list.issuedAt}` : ''} by hub key <code>${list.keyId}</code>.
                </p>
                ${
                  list.packs.length
                    ? html`<table>
                        <tbody>
                          ${list.packs.map(
                            (r) =>
                              html`<tr data-revoked=${r.pack}>
                                <td>${r.pack}</td>
                                <td><code>${r.versions}</code></td>
                                <td>${r.reason ?? ''}</td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>`
                    : nothing
                }
                ${list.keys.length ? html`<p>Revoked publisher keys: ${list.keys.map((k) => html`<code>${k.keyId}</code> `)}</p>` : nothing}`
            : html`<div class="muted">Nothing revoked.</div>`
        }
      </div>
      <form class="toolbar" aria-label="Revoke pack versions" @submit=${(e: SubmitEvent) => this.revoke(e)}>
        <label>Pack <input name="pack" required placeholder="nginx" /></label>
        <label>Versions <input name="versions" required placeholder="1.2.3 or <1.4.0" /></label>
        <label>Reason <input name="reason" maxlength="500" /></label>
        <button class="danger" type="submit" ?disabled=${this.action.busy}>Revoke</button>
      </form>
    `;
  }
}
