import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { field, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { UserView } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';

/**
 * Users: add one before their first login (name, email, role), enable or
 * disable, change role, remove. Manages the hub's local users.
 *
 * @summary Local users: add, enable/disable, role, remove.
 * @csspart create-form - The add form.
 * @csspart table - The user list.
 */
export class SondeUsers extends SondeElement {
  static override styles = [tokens, controls];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
  };

  private readonly users = new Loader<UserView[]>(this, (signal) => this.client.get<UserView[]>('/api/v1/users', signal));
  private readonly action = new Action(this, () => this.users.run(true));

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.users.state === 'idle') void this.users.run();
  }

  private add(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const email = field(data, 'email');
    void this.action.run(async () => {
      await this.client.post('/api/v1/users', {
        name: field(data, 'name'),
        role: field(data, 'role'),
        ...(email ? { email } : {}),
      });
      form.reset();
    });
  }

  protected override render(): unknown {
    const { state, value, error } = this.users;
    return html`
      <h2>Users</h2>
      <form class="toolbar" part="create-form" aria-label="Add user" @submit=${(e: SubmitEvent) => this.add(e)}>
        <label>Name <input name="name" required maxlength="200" /></label>
        <label>Email <input name="email" type="email" maxlength="320" /></label>
        <label
          >Role
          <select name="role">
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select></label
        >
        <button class="primary" type="submit" ?disabled=${this.action.busy}>Add user</button>
      </form>
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load users: ${error?.message}</div>` : nothing}
      ${!value && state !== 'error' ? html`<div class="message" aria-busy="true">Loading users…</div>` : nothing}
      ${value && value.length === 0 ? html`<div class="message">No users.</div>` : nothing}
      ${
        value?.length
          ? html`<table part="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Added</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${value.map(
                  (u) =>
                    html`<tr data-user=${u.name}>
                      <td>${u.name}</td>
                      <td>${u.email ?? ''}</td>
                      <td>
                        <select
                          aria-label=${`Role of ${u.name}`}
                          ?disabled=${this.action.busy}
                          @change=${(e: Event) =>
                            void this.action.run(() =>
                              this.client.patch(`/api/v1/users/${seg(u.id)}`, { role: (e.target as HTMLSelectElement).value }),
                            )}
                        >
                          <option value="member" ?selected=${u.role === 'member'}>member</option>
                          <option value="admin" ?selected=${u.role === 'admin'}>admin</option>
                        </select>
                      </td>
                      <td>
                        <input
                          type="checkbox"
                          aria-label=${`${u.name} enabled`}
                          .checked=${u.enabled}
                          ?disabled=${this.action.busy}
                          @change=${(e: Event) =>
                            void this.action.run(() =>
                              this.client.patch(`/api/v1/users/${seg(u.id)}`, { enabled: (e.target as HTMLInputElement).checked }),
                            )}
                        />
                      </td>
                      <td>${relative(u.createdAt)}</td>
                      <td>
                        <button
                          type="button"
                          class="danger"
                          ?disabled=${this.action.busy}
                          aria-label=${`Remove ${u.name}`}
                          @click=${() => {
                            if (confirm(`Remove ${u.name}?`)) void this.action.run(() => this.client.delete(`/api/v1/users/${seg(u.id)}`));
                          }}
                        >
                          Remove
                        </button>
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
