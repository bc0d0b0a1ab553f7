import { css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { dateTime, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AgentDetail, AgentView, CallRecord, PackStatus } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';

/** The code an agent reports beside a first install an admin rejected (reported as `disabled`). */
const PACK_REJECTED = 'SONDE_ERR_PACK_REJECTED';

/**
 * One agent: health and why it is degraded, OS, versions, isolation level,
 * credentials, the attestation (accept a changed baseline), packs with state,
 * refusal code and what waits for approval with its added permissions
 * (approve or reject, naming the version and digest reviewed, as the REST
 * routes require), recent probes, and remove (revokes its certificate and key).
 *
 * @summary Agent detail with packs, approvals, attestation and removal.
 * @event sonde-agent-removed - The agent was removed; detail `{ id, name }`.
 * @csspart summary - The facts list.
 * @csspart packs - The packs table.
 * @csspart attestation - The changed-attestation panel.
 * @csspart remove - The remove button.
 */
export class SondeAgent extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      dl.facts {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 4px 16px;
        margin: 0 0 var(--s-space);
      }
      dt {
        color: var(--s-muted);
      }
      dd {
        margin: 0;
      }
      .reasons {
        color: var(--s-degraded);
      }
      .panel {
        border: 1px solid var(--s-degraded);
        border-radius: var(--s-radius);
        padding: var(--s-space);
        margin: var(--s-space) 0;
      }
      ul.added {
        margin: 4px 0;
        padding-left: 1.2em;
        font-family: var(--s-mono);
        font-size: 0.9em;
      }
      .danger-zone {
        margin-top: calc(var(--s-space) * 3);
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    agent: { type: String, reflect: true },
    pollInterval: { type: Number, attribute: 'poll-interval' },
  };

  /** Agent name or id. */
  declare agent: string;
  /** Refresh period in ms (default 5000; 0 stops polling). */
  declare pollInterval: number;

  // Embedded (an embed token), the hub answers the agent's public view only: no certificate or attestation.
  private readonly detail = new Loader<AgentDetail | AgentView>(
    this,
    (signal) => this.client.get<AgentDetail | AgentView>(`/api/v1/agents/${seg(this.agent)}`, signal),
    {
      pollMs: () => this.pollInterval,
    },
  );
  // Embedded, this reads the probe calls the token may see (other audit entries stay closed), so it reads further back.
  private readonly recent = new Loader<{ entries: CallRecord[] }>(this, (signal) =>
    this.client.get<{ entries: CallRecord[] }>(
      `/api/v1/audit?agent=${encodeURIComponent(this.agent)}&limit=${this.client.embedded ? 100 : 10}`,
      signal,
    ),
  );
  private readonly action = new Action(this, () => Promise.all([this.detail.run(true), this.recent.run(true)]));

  constructor() {
    super();
    this.agent = '';
    this.pollInterval = 5000;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.agent) return;
    if (changed.has('hub') || changed.has('token') || changed.has('agent') || this.detail.state === 'idle') {
      void this.detail.run();
      void this.recent.run();
    }
  }

  /** Approve or reject what waits, pinned to the version and digest on screen (the agent checks both). */
  private decide(pack: PackStatus, decision: 'approve' | 'reject'): void {
    const pending = pack.pending;
    if (!pending) return;
    void this.action.run(() =>
      this.client.post(`/api/v1/agents/${seg(this.agent)}/packs/${seg(pack.name)}/${decision}`, {
        version: pending.version,
        permissionsSha256: pending.permissionsSha256,
      }),
    );
  }

  private acceptAttestation(): void {
    void this.action.run(() => this.client.post(`/api/v1/agents/${seg(this.agent)}/accept-attestation`));
  }

  private askRemove(detail: AgentView): void {
    const dialog = this.renderRoot.querySelector('dialog');
    if (dialog && typeof dialog.showModal === 'function') dialog.showModal();
    else if (confirm(`Remove ${detail.name}? Its certificate and key are revoked.`)) this.confirmRemove(detail);
  }

  private confirmRemove(detail: AgentView): void {
    this.renderRoot.querySelector('dialog')?.close();
    void this.action.run(async () => {
      await this.client.delete(`/api/v1/agents/${seg(detail.id)}`);
      this.emit('sonde-agent-removed', { id: detail.id, name: detail.name });
    });
  }

  protected override render(): unknown {
    if (!this.agent) return html`<div class="message">No agent chosen.</div>`;
    const { state, value: a, error } = this.detail;
    if (!a)
      return state === 'error'
        ? html`<div class="message error" role="alert">Could not load ${this.agent}: ${error?.message}</div>`
        : html`<div class="message" aria-busy="true">Loading ${this.agent}…</div>`;
    // Embedded: read-only (no approve, reject, accept or remove), and the hub sends the public view without detail.
    const readOnly = this.client.embedded;
    const detail = 'certSerial' in a ? a : undefined;
    const certDays = detail?.certNotAfter ? Math.round((Date.parse(detail.certNotAfter) - Date.now()) / 86_400_000) : null;
    return html`
      <h2><span class="dot ${a.status}"></span>${a.name} <span class="muted">${a.status}</span></h2>
      ${state === 'error' ? html`<div class="message error" role="alert">Refresh failed: ${error?.message}</div>` : nothing}
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${
        a.reasons.length
          ? html`<ul class="reasons">
              ${a.reasons.map((r) => html`<li>${r}</li>`)}
            </ul>`
          : nothing
      }
      <dl class="facts" part="summary">
        <dt>OS</dt>
        <dd>${a.os ?? '—'}</dd>
        <dt>Agent version</dt>
        <dd>${a.agentVersion ?? '—'}</dd>
        <dt>Isolation</dt>
        <dd>${a.isolation ?? '—'}</dd>
        <dt>Last seen</dt>
        <dd title=${a.lastSeenAt ?? ''}>${a.connected ? 'connected' : relative(a.lastSeenAt)}</dd>
        <dt>Enrolled</dt>
        <dd>${dateTime(a.enrolledAt)}</dd>
        ${
          detail
            ? html`<dt>Certificate</dt>
                <dd>
                  ${detail.certSerial ? html`<code>${detail.certSerial.slice(0, 16)}</code>` : '—'}
                  ${certDays !== null ? html`<span class=${certDays < 30 ? 'reasons' : 'muted'}>expires in ${certDays} d</span>` : nothing}
                </dd>`
            : nothing
        }
      </dl>
      ${
        detail?.pendingAttestation && !readOnly
          ? html`<section class="panel" part="attestation" aria-label="Changed attestation">
              <strong>The attestation changed since the accepted baseline.</strong>
              <details>
                <summary>Compare</summary>
                <h3>Baseline</h3>
                <pre>${JSON.stringify(detail.attestationBaseline, null, 2)}</pre>
                <h3>Now</h3>
                <pre>${JSON.stringify(detail.pendingAttestation, null, 2)}</pre>
              </details>
              <button type="button" class="primary" ?disabled=${this.action.busy} @click=${() => this.acceptAttestation()}>
                Accept as new baseline
              </button>
            </section>`
          : nothing
      }
      <h3>Packs</h3>
      ${
        a.packs.length === 0
          ? html`<div class="message">No packs installed.</div>`
          : html`<table part="packs">
              <thead>
                <tr>
                  <th scope="col">Pack</th>
                  <th scope="col">Version</th>
                  <th scope="col">State</th>
                  <th scope="col">Waiting for approval</th>
                </tr>
              </thead>
              <tbody>
                ${a.packs.map(
                  (p) =>
                    html`<tr data-pack=${p.name}>
                      <td>${p.name}</td>
                      <td>${p.version}</td>
                      <td>
                        ${p.code === PACK_REJECTED ? 'rejected' : p.state}${p.code ? html` <code>${p.code}</code>` : nothing}${p.reason ? html`<div class="muted">${p.reason}</div>` : nothing}
                      </td>
                      <td>
                        ${
                          p.pending
                            ? html`<div>
                                version <strong>${p.pending.version}</strong>
                                <span class="muted">(digest <code>${p.pending.permissionsSha256.slice(0, 12)}…</code>)</span>
                                ${
                                  p.pending.added.length
                                    ? html`<div>asks in addition for:</div>
                                        <ul class="added">
                                          ${p.pending.added.map((x) => html`<li>${x}</li>`)}
                                        </ul>`
                                    : html`<details>
                                        <summary>first install: everything it asks for</summary>
                                        <pre>${JSON.stringify(p.pending.permissions ?? {}, null, 2)}</pre>
                                      </details>`
                                }
                                ${
                                  readOnly
                                    ? nothing
                                    : html`<button
                                          type="button"
                                          class="primary"
                                          ?disabled=${this.action.busy || !a.connected}
                                          title=${a.connected ? '' : 'the agent must be connected'}
                                          aria-label=${`Approve ${p.name} ${p.pending.version}`}
                                          @click=${() => this.decide(p, 'approve')}
                                        >
                                          Approve
                                        </button>
                                        <button
                                          type="button"
                                          ?disabled=${this.action.busy || !a.connected}
                                          title=${a.connected ? 'the agent never loads this version; a newer one waits for approval again' : 'the agent must be connected'}
                                          aria-label=${`Reject ${p.name} ${p.pending.version}`}
                                          @click=${() => this.decide(p, 'reject')}
                                        >
                                          Reject
                                        </button>`
                                }
                              </div>`
                            : html`<span class="muted">—</span>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h3>${readOnly ? 'Recent probe calls' : 'Recent activity'}</h3>
      ${
        this.recent.value?.entries.length
          ? html`<table>
              <tbody>
                ${this.recent.value.entries.slice(0, 10).map(
                  (e) =>
                    html`<tr>
                      <td>${dateTime(e.at)}</td>
                      <td><code>${e.action}</code></td>
                      <td>${e.probe ?? ''}</td>
                      <td>${e.status}</td>
                      <td>${e.actor?.name ?? ''}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<div class="muted">${this.recent.state === 'loading' ? 'Loading…' : 'No recent activity.'}</div>`
      }
      ${
        readOnly
          ? nothing
          : html`<div class="danger-zone">
                <button type="button" class="danger" part="remove" ?disabled=${this.action.busy} @click=${() => this.askRemove(a)}>
                  Remove agent
                </button>
              </div>
              <dialog aria-labelledby="remove-title">
                <h3 id="remove-title">Remove ${a.name}?</h3>
                <p>Its certificate and agent key are revoked at once and it is disconnected. Its history stays in the audit log.</p>
                <form method="dialog" class="toolbar">
                  <button value="cancel">Cancel</button>
                  <button type="button" class="danger" @click=${() => this.confirmRemove(a)}>Remove</button>
                </form>
              </dialog>`
      }
    `;
  }
}
