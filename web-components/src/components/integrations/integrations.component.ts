import { css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { field, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { IntegrationInstanceView, IntegrationPackView } from '../../internal/types.js';
import { LiveIntegrations } from '../../controllers/live-integrations.js';
import { controls, tokens } from '../../theme/tokens.js';

/** An integration pack and an instance as the hub's REST API describes them (generated from its OpenAPI document). */
export type IntegrationPack = IntegrationPackView;
export type IntegrationInstance = IntegrationInstanceView;

const STATUS_LABEL = { connected: 'Connected', error: 'Error', untested: 'Untested' } as const;

/**
 * Integrations: the packs the hub itself runs (state, the permission diff of
 * a pending version, approve) and their instances (endpoint, credentials
 * write-only, Connected / Error with details / Untested, Test Connection,
 * add, edit, remove).
 *
 * @summary Integration packs and instances with Test Connection.
 * @csspart packs - The packs table.
 * @csspart instances - The instances table.
 * @csspart create-form - The add-instance form.
 */
export class SondeIntegrations extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      .connected {
        color: var(--s-online);
      }
      .error {
        color: var(--s-danger);
      }
      .untested {
        color: var(--s-muted);
      }
      ul.diff {
        margin: 4px 0;
        padding-left: 1.2em;
        font-size: 0.9em;
      }
      .actions {
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
      }
      fieldset {
        border: 1px solid var(--s-border);
        border-radius: var(--s-radius);
        display: flex;
        gap: var(--s-space);
        flex-wrap: wrap;
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    newPack: { state: true },
    editing: { state: true },
  };

  declare private newPack: string;
  declare private editing: string | undefined;

  private readonly packs = new Loader<IntegrationPack[]>(this, (signal) =>
    this.client.get<IntegrationPack[]>('/api/v1/integrations/packs', signal),
  );
  private readonly instances = new Loader<IntegrationInstance[]>(this, (signal) =>
    this.client.get<IntegrationInstance[]>('/api/v1/integrations/instances', signal),
  );
  private readonly action = new Action(this, () => Promise.all([this.packs.run(true), this.instances.run(true)]));
  /** Packs change live (another admin approves, a pack is installed on the hub); instances reload on their audit entries. */
  private readonly live = new LiveIntegrations(this, this.packs, this.instances, () => this.client);

  constructor() {
    super();
    this.newPack = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.packs.state === 'idle') {
      void this.packs.run();
      void this.instances.run();
    }
  }

  private credentialNames(pack: string): Array<{ name: string; description: string }> {
    return this.packs.value?.find((p) => p.name === pack)?.permissions?.credentials ?? [];
  }

  /** Only credentials given a value are sent: an empty field means "not set" (or, when editing, the set is replaced). */
  private readCredentials(data: FormData, pack: string): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    for (const { name } of this.credentialNames(pack)) {
      const value = data.get(`credential:${name}`);
      if (typeof value === 'string' && value !== '') out[name] = value;
    }
    return Object.keys(out).length ? out : undefined;
  }

  private create(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const pack = field(data, 'pack');
    const credentials = this.readCredentials(data, pack);
    void this.action.run(async () => {
      await this.client.post('/api/v1/integrations/instances', {
        name: field(data, 'name'),
        pack,
        endpoint: field(data, 'endpoint'),
        ...(credentials ? { credentials } : {}),
      });
      form.reset();
      this.newPack = '';
    });
  }

  private saveEdit(event: SubmitEvent, instance: IntegrationInstance): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const credentials = this.readCredentials(data, instance.pack);
    const endpoint = field(data, 'endpoint');
    void this.action.run(async () => {
      await this.client.patch(`/api/v1/integrations/instances/${seg(instance.id)}`, {
        ...(endpoint !== instance.endpoint ? { endpoint } : {}),
        ...(credentials ? { credentials } : {}),
      });
      this.editing = undefined;
    });
  }

  private renderCredentialFields(pack: string, editing: boolean): unknown {
    const names = this.credentialNames(pack);
    if (!names.length) return nothing;
    return html`<fieldset>
      <legend>Credentials (write-only${editing ? '; leave all empty to keep the current ones' : ''})</legend>
      ${names.map(
        (c) =>
          html`<label
            >${c.name}
            <input name=${`credential:${c.name}`} type="password" autocomplete="off" title=${c.description} />
          </label>`,
      )}
    </fieldset>`;
  }

  protected override render(): unknown {
    const packs = this.packs.value ?? [];
    const instances = this.instances.value ?? [];
    const error = this.packs.error ?? this.instances.error;
    return html`
      <h2>Integrations</h2>
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${
        this.packs.state === 'error' || this.instances.state === 'error'
          ? html`<div class="message error" role="alert">Could not load integrations: ${error?.message}</div>`
          : nothing
      }
      ${!this.packs.value && this.packs.state !== 'error' ? html`<div class="message" aria-busy="true">Loading integrations…</div>` : nothing}
      <h3>Packs</h3>
      ${
        this.packs.value && packs.length === 0
          ? html`<div class="message">No integration packs installed (install one with the REST API or <code>sonde-hub</code>).</div>`
          : nothing
      }
      ${
        packs.length
          ? html`<table part="packs">
              <thead>
                <tr>
                  <th scope="col">Pack</th>
                  <th scope="col">Version</th>
                  <th scope="col">State</th>
                  <th scope="col">Pending</th>
                </tr>
              </thead>
              <tbody>
                ${packs.map(
                  (p) =>
                    html`<tr data-pack=${p.name}>
                      <td>
                        ${p.name}
                        <div class="muted">${p.description}</div>
                      </td>
                      <td>${p.activeVersion ?? '—'}</td>
                      <td>
                        ${p.state}${p.refused ? html`<div class="error"><code>${p.refused.code}</code> ${p.refused.reason}</div>` : nothing}
                      </td>
                      <td>
                        ${
                          p.pending
                            ? html`version <strong>${p.pending.version}</strong>
                                ${
                                  p.pending.diff.added.length
                                    ? html`<div>asks in addition for:</div>
                                        <ul class="diff">
                                          ${p.pending.diff.added.map((c) => html`<li>${c.description}</li>`)}
                                        </ul>`
                                    : nothing
                                }
                                ${
                                  p.pending.diff.removed.length
                                    ? html`<div>no longer asks for:</div>
                                        <ul class="diff">
                                          ${p.pending.diff.removed.map((c) => html`<li>${c.description}</li>`)}
                                        </ul>`
                                    : nothing
                                }
                                <button
                                  type="button"
                                  class="primary"
                                  ?disabled=${this.action.busy}
                                  aria-label=${`Approve ${p.name} ${p.pending.version}`}
                                  @click=${() =>
                                    void this.action.run(() =>
                                      this.client.post(`/api/v1/integrations/packs/${seg(p.name)}/approve`, {
                                        version: p.pending!.version,
                                      }),
                                    )}
                                >
                                  Approve
                                </button>`
                            : html`<span class="muted">—</span>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : nothing
      }
      <h3>Instances</h3>
      ${this.instances.value && instances.length === 0 ? html`<div class="message">No instances yet.</div>` : nothing}
      ${
        instances.length
          ? html`<table part="instances">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Pack</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Credentials</th>
                  <th scope="col">Status</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${instances.map(
                  (i) =>
                    html`<tr data-instance=${i.name}>
                      <td>${i.name}</td>
                      <td>${i.pack}</td>
                      <td><code>${i.endpoint}</code></td>
                      <td>${i.credentialNames.length ? i.credentialNames.join(', ') : html`<span class="muted">none</span>`}</td>
                      <td>
                        <span class=${i.status} data-status=${i.status}>${STATUS_LABEL[i.status]}</span>
                        ${i.lastCheckedAt ? html`<div class="muted">${relative(i.lastCheckedAt)}</div>` : nothing}
                        ${
                          i.status === 'error' && i.lastError
                            ? html`<details>
                                <summary>details</summary>
                                ${i.lastError}
                              </details>`
                            : nothing
                        }
                      </td>
                      <td>
                        <div class="actions">
                          <button
                            type="button"
                            ?disabled=${this.action.busy}
                            aria-label=${`Test connection of ${i.name}`}
                            @click=${() => void this.action.run(() => this.client.post(`/api/v1/integrations/instances/${seg(i.id)}/test`))}
                          >
                            Test Connection
                          </button>
                          <button
                            type="button"
                            ?disabled=${this.action.busy}
                            aria-label=${`Edit ${i.name}`}
                            @click=${() => (this.editing = i.id)}
                          >
                            Edit
                          </button>
                          <button
                            type="button"
                            class="danger"
                            ?disabled=${this.action.busy}
                            aria-label=${`Remove ${i.name}`}
                            @click=${() => {
                              if (confirm(`Remove ${i.name}? Its credentials are deleted.`))
                                void this.action.run(() => this.client.delete(`/api/v1/integrations/instances/${seg(i.id)}`));
                            }}
                          >
                            Remove
                          </button>
                        </div>
                        ${
                          this.editing === i.id
                            ? html`<form class="toolbar" aria-label=${`Edit ${i.name}`} @submit=${(e: SubmitEvent) => this.saveEdit(e, i)}>
                                <label>Endpoint <input name="endpoint" type="url" required .value=${i.endpoint} /></label>
                                ${this.renderCredentialFields(i.pack, true)}
                                <button class="primary" type="submit" ?disabled=${this.action.busy}>Save</button>
                                <button type="button" @click=${() => (this.editing = undefined)}>Cancel</button>
                              </form>`
                            : nothing
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : nothing
      }
      ${
        packs.some((p) => p.state === 'active')
          ? html`<form class="toolbar" part="create-form" aria-label="Add integration" @submit=${(e: SubmitEvent) => this.create(e)}>
              <label
                >Type
                <select name="pack" required @change=${(e: Event) => (this.newPack = (e.target as HTMLSelectElement).value)}>
                  <option value="">choose</option>
                  ${packs.filter((p) => p.state === 'active').map((p) => html`<option value=${p.name}>${p.name}</option>`)}
                </select></label
              >
              <label>Name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,62}" placeholder="pve-lab" /></label>
              <label>Endpoint <input name="endpoint" type="url" required placeholder="https://pve.example.com:8006" /></label>
              ${this.newPack ? this.renderCredentialFields(this.newPack, false) : nothing}
              <button class="primary" type="submit" ?disabled=${this.action.busy}>Add integration</button>
            </form>`
          : nothing
      }
    `;
  }
}
