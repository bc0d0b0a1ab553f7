import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import { copyText, field, relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { TokenView } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';

interface CreatedToken extends TokenView {
  token: string;
  command: string;
}

/**
 * Enrollment: generate a single-use 15-minute token (optionally bound to an
 * agent name) and show the full `sonde enroll` command for the hub's public
 * URL, once; list tokens (masked) with their state; revoke.
 *
 * @summary Enrollment tokens and the command that enrolls an agent.
 * @csspart create-form - The generate form.
 * @csspart command - The enroll command (shown once).
 * @csspart table - The token list.
 */
export class SondeEnrollment extends SondeElement {
  static override styles = [tokens, controls];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    created: { state: true },
  };

  declare private created: (CreatedToken & { copied?: boolean }) | undefined;

  private readonly tokens = new Loader<TokenView[]>(this, (signal) => this.client.get<TokenView[]>('/api/v1/enrollment-tokens', signal));
  private readonly action = new Action(this, () => this.tokens.run(true));

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.tokens.state === 'idle') void this.tokens.run();
  }

  private generate(event: SubmitEvent): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const name = field(new FormData(form), 'name');
    void this.action.run(async () => {
      this.created = await this.client.post<CreatedToken>('/api/v1/enrollment-tokens', name ? { name } : {});
      form.reset();
    });
  }

  private revoke(token: TokenView): void {
    if (!confirm(`Revoke token ${token.prefix}…?`)) return;
    void this.action.run(() => this.client.delete(`/api/v1/enrollment-tokens/${seg(token.id)}`));
  }

  private async copy(): Promise<void> {
    if (this.created && (await copyText(this.created.command))) this.created = { ...this.created, copied: true };
  }

  protected override render(): unknown {
    const { state, value, error } = this.tokens;
    return html`
      <h2>Enrollment</h2>
      <form class="toolbar" part="create-form" aria-label="Generate enrollment token" @submit=${(e: SubmitEvent) => this.generate(e)}>
        <label>Agent name (optional) <input name="name" maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._-]*" placeholder="web-1" /></label>
        <button class="primary" type="submit" ?disabled=${this.action.busy}>Generate token</button>
      </form>
      ${
        this.created
          ? html`<div class="secret" part="command" role="status">
              <span
                >Run this on the server to enroll it (the token works once and expires
                ${relative(this.created.expiresAt)}${this.created.boundName ? `, bound to ${this.created.boundName}` : ''}):</span
              >
              <pre tabindex="0" data-command>${this.created.command}</pre>
              <button type="button" @click=${() => void this.copy()}>${this.created.copied ? 'Copied' : 'Copy command'}</button>
              <button type="button" @click=${() => (this.created = undefined)}>Done</button>
            </div>`
          : nothing
      }
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load tokens: ${error?.message}</div>` : nothing}
      ${!value && state !== 'error' ? html`<div class="message" aria-busy="true">Loading tokens…</div>` : nothing}
      ${value && value.length === 0 ? html`<div class="message">No enrollment tokens yet.</div>` : nothing}
      ${
        value?.length
          ? html`<table part="table">
              <thead>
                <tr>
                  <th scope="col">Token</th>
                  <th scope="col">Bound to</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires / used</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${value.map(
                  (t) =>
                    html`<tr data-token=${t.id}>
                      <td><code>${t.prefix.replace(/…$/, '')}…</code></td>
                      <td>${t.boundName ?? html`<span class="muted">any name</span>`}</td>
                      <td>${t.state}</td>
                      <td title=${t.createdAt}>${relative(t.createdAt)}</td>
                      <td>${t.usedAt ? `used ${relative(t.usedAt)}${t.usedBy ? ` by ${t.usedBy}` : ''}` : relative(t.expiresAt)}</td>
                      <td>
                        ${
                          t.state === 'active'
                            ? html`<button
                                type="button"
                                class="danger"
                                ?disabled=${this.action.busy}
                                aria-label=${`Revoke token ${t.prefix}`}
                                @click=${() => this.revoke(t)}
                              >
                                Revoke
                              </button>`
                            : nothing
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
