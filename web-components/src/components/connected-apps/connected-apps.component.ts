import { css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { seg } from '../../controllers/hub-client.js';
import { Action } from '../../controllers/action.js';
import { Loader } from '../../controllers/loader.js';
import type { operations } from '../../internal/api.gen.js';
import { relative } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import { controls, tokens } from '../../theme/tokens.js';

/** One consent as `GET /api/v1/oauth/consents` answers it (generated from the hub's OpenAPI document). */
export type ConsentView = operations['getApiV1OauthConsents']['responses'][200]['content']['application/json']['consents'][number];

/**
 * Connected apps: the OAuth clients (Claude.ai, ChatGPT, desktop clients)
 * the signed-in user allowed to use Sonde's MCP tools in their name, with
 * what they may do and since when; **Revoke** withdraws a consent, and the
 * client's tokens stop at once (it has to ask again). With an admin API key
 * it lists every user's consents.
 *
 * @summary OAuth consents of the signed-in user: see and revoke.
 * @csspart table - The consent list.
 * @fires sonde-consent-revoked - After a consent was withdrawn; `detail: { id, clientId }`.
 */
export class SondeConnectedApps extends SondeElement {
  static override styles = [
    tokens,
    controls,
    css`
      .muted {
        color: var(--s-muted);
        font-size: 0.85em;
      }
    `,
  ];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
  };

  private readonly consents = new Loader<{ consents: ConsentView[] }>(this, (signal) =>
    this.client.get<{ consents: ConsentView[] }>('/api/v1/oauth/consents', signal),
  );
  private readonly action = new Action(this, () => this.consents.run(true));

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || this.consents.state === 'idle') void this.consents.run();
  }

  private revoke(c: ConsentView): void {
    const name = c.clientName ?? c.clientId;
    if (!confirm(`Revoke ${name}? Its access ends now; it will have to ask again.`)) return;
    void this.action.run(async () => {
      await this.client.delete(`/api/v1/oauth/consents/${seg(c.id)}`);
      this.dispatchEvent(
        new CustomEvent('sonde-consent-revoked', { detail: { id: c.id, clientId: c.clientId }, bubbles: true, composed: true }),
      );
    });
  }

  protected override render(): unknown {
    const { state, value, error } = this.consents;
    const list = value?.consents;
    // An admin key sees every user's consents: then say whose each is.
    const manyUsers = new Set(list?.map((c) => c.userId)).size > 1;
    return html`
      <h2>Connected apps</h2>
      ${this.action.error ? html`<div class="message error" role="alert">${this.action.error}</div>` : nothing}
      ${state === 'error' ? html`<div class="message error" role="alert">Could not load connected apps: ${error?.message}</div>` : nothing}
      ${!list && state !== 'error' ? html`<div class="message" aria-busy="true">Loading connected apps…</div>` : nothing}
      ${list && list.length === 0 ? html`<div class="message">No app is connected in your name.</div>` : nothing}
      ${
        list?.length
          ? html`<table part="table">
              <thead>
                <tr>
                  <th scope="col">App</th>
                  ${manyUsers ? html`<th scope="col">User</th>` : nothing}
                  <th scope="col">May</th>
                  <th scope="col">Allowed</th>
                  <th scope="col">Until</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${list.map(
                  (c) =>
                    html`<tr data-consent=${c.id}>
                      <td>${c.clientName ?? c.clientId}${c.clientName ? html`<div class="muted">${c.clientId}</div>` : nothing}</td>
                      ${manyUsers ? html`<td>${c.userId}</td>` : nothing}
                      <td>${c.scopes.includes('mcp') ? 'Use Sonde’s tools with your role' : ''} <code>${c.scopes.join(' ')}</code></td>
                      <td>${c.createdAt ? relative(c.createdAt) : ''}</td>
                      <td>${c.expiresAt ? relative(c.expiresAt) : 'no expiry'}</td>
                      <td>
                        <button
                          type="button"
                          class="danger"
                          ?disabled=${this.action.busy}
                          aria-label=${`Revoke ${c.clientName ?? c.clientId}`}
                          @click=${() => this.revoke(c)}
                        >
                          Revoke
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
