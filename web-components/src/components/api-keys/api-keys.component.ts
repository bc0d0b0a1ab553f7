import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { copyText, field, list, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { ApiKeyView } from '../../internal/types.js';
import { seg } from '../../controllers/hub-client.js';
import { controls, tokens } from '../../theme/tokens.js';
import { styles } from './api-keys.styles.js';

interface KeyWithSecret {
  key: ApiKeyView;
  rawKey: string;
}

/**
 * API keys: create (name, role, agent and probe globs, allowed clients), the
 * value shown once with a copy button, rotate (the old value stops at once),
 * revoke. Lists last use and age; never a key's value after it was shown.
 *
 * @summary Create, rotate and revoke API keys.
 * @event sonde-key-change - A key was created, rotated or revoked; detail `{ action, id, name }` (never the value).
 * @csspart create-form - The create form.
 * @csspart secret - The once-only panel with a new key's value.
 * @csspart table - The key list.
 */
export class SondeApiKeys extends SondeElement {
  static override styles = [tokens, controls, styles];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    showAgentKeys: { type: Boolean, attribute: 'show-agent-keys' },
    secret: { state: true },
  };

  /** Also list the agents' own keys (minted at enrollment; revoke only). */
  declare showAgentKeys: boolean;
  declare private secret: { name: string; value: string; copied?: boolean } | undefined;

  private readonly keys = new Loader<ApiKeyView[]>(this, (signal) => this.client.get<ApiKeyView[]>('/api/v1/api-keys', signal));
  private readonly action = new Action(this, () => this.keys.run(true));

  constructor() {
    super();
    this.showAgentKeys = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.keys.state === 'idle') void this.keys.run();
  }

  private create(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const name = field(data, 'name');
    void this.action.run(async () => {
      const created = await this.client.post<KeyWithSecret>('/api/v1/api-keys', {
        name,
        role: field(data, 'role'),
        policy: {
          allowedAgents: list(field(data, 'agents')),
          allowedProbes: list(field(data, 'probes')),
          allowedClients: list(field(data, 'clients')),
        },
      });
      this.secret = { name: created.key.name, value: created.rawKey };
      form.reset();
      this.emit('sonde-key-change', { action: 'create', id: created.key.id, name: created.key.name });
    });
  }

  private rotate(key: ApiKeyView): void {
    if (!confirm(`Rotate "${key.name}"? Its current value stops working at once.`)) return;
    void this.action.run(async () => {
      const rotated = await this.client.post<KeyWithSecret>(`/api/v1/api-keys/${seg(key.id)}/rotate`);
      this.secret = { name: rotated.key.name, value: rotated.rawKey };
      this.emit('sonde-key-change', { action: 'rotate', id: key.id, name: key.name });
    });
  }

  private revoke(key: ApiKeyView): void {
    if (!confirm(`Revoke "${key.name}"? Clients using it are refused from now on.`)) return;
    void this.action.run(async () => {
      await this.client.delete(`/api/v1/api-keys/${seg(key.id)}`);
      this.emit('sonde-key-change', { action: 'revoke', id: key.id, name: key.name });
    });
  }

  private async copy(): Promise<void> {
    if (!this.secret) return;
    const ok = await copyText(this.secret.value);
    if (ok) this.secret = { ...this.secret, copied: true };
    else this.renderRoot.querySelector<HTMLElement>('.secret code')?.focus();
  }

  protected override render(): unknown {
    const { state, value, error } = this.keys;
    const shown = (value ?? []).filter((k) => this.showAgentKeys || k.type === 'user');
    return html`
      <h2>API keys</h2>
      <form class="create" part="create-form" aria-label="Create key" @submit=${(e: SubmitEvent) => this.create(e)}>
        <label>Name <input name="name" required maxlength="100" placeholder="Claude Code - Josh" /></label>
        <label
          >Role
          <select name="role">
            <option value="member">member (MCP only)</option>
            <option value="admin">admin (MCP + REST)</option>
          </select></label
        >
        <label>Agents (globs) <input name="agents" placeholder="prod-*, web-1" /></label>
        <label>Probes (globs) <input name="probes" placeholder="system.*" /></label>
        <label>Allowed clients <input name="clients" placeholder="any" /></label>
        <button class="primary" type="submit" ?disabled=${this.action.busy}>Create key</button>
      </form>
      ${
        this.secret
          ? html`<div class="secret" part="secret" role="status">
              <span>New value for <strong>${this.secret.name}</strong> (shown only now):</span>
              <code tabindex="0" data-secret>${this.secret.value}</code>
              <button type="button" @click=${() => void this.copy()}>${this.secret.copied ? 'Copied' : 'Copy'}</button>
              <button type="button" aria-label="Dismiss the key value" @click=${() => (this.secret = undefined)}>Done</button>
            </div>`
          : nothing
      }
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load keys: ${error?.message}</div>` : nothing}
      ${!value && state !== 'error' ? html`<div class="message" aria-busy="true">Loading keys…</div>` : nothing}
      ${value && shown.length === 0 ? html`<div class="message">No API keys yet.</div>` : nothing}
      ${
        shown.length
          ? html`<table part="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${shown.map(
                  (key) =>
                    html`<tr class=${key.revokedAt ? 'revoked' : ''} data-key=${key.name}>
                      <td>${key.name}${key.type === 'agent' ? html` <span class="muted">(agent)</span>` : nothing}</td>
                      <td>${key.role}</td>
                      <td><code>${key.prefix}…</code></td>
                      <td class="scope">
                        ${
                          [
                            key.policy.allowedAgents.length ? `agents ${key.policy.allowedAgents.join(', ')}` : '',
                            key.policy.allowedProbes.length ? `probes ${key.policy.allowedProbes.join(', ')}` : '',
                            key.policy.allowedClients.length ? `clients ${key.policy.allowedClients.join(', ')}` : '',
                          ]
                            .filter(Boolean)
                            .join('; ') || html`<span class="muted">everything</span>`
                        }
                      </td>
                      <td title=${key.createdAt}>${relative(key.createdAt)}</td>
                      <td title=${key.lastUsedAt ?? ''}>${relative(key.lastUsedAt)}</td>
                      <td>
                        ${
                          key.revokedAt
                            ? html`<span class="muted">revoked ${relative(key.revokedAt)}</span>`
                            : html`<div class="actions">
                                ${
                                  key.type === 'user'
                                    ? html`<button
                                        type="button"
                                        ?disabled=${this.action.busy}
                                        aria-label=${`Rotate ${key.name}`}
                                        @click=${() => this.rotate(key)}
                                      >
                                        Rotate
                                      </button>`
                                    : nothing
                                }
                                <button
                                  type="button"
                                  class="danger"
                                  ?disabled=${this.action.busy}
                                  aria-label=${`Revoke ${key.name}`}
                                  @click=${() => this.revoke(key)}
                                >
                                  Revoke
                                </button>
                              </div>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : nothing
      }
    `;
  }
}
