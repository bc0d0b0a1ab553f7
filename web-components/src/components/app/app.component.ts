import { ContextProvider } from '@lit/context';
import { nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { html, unsafeStatic } from 'lit/static-html.js';
import { hubClientContext } from '../../controllers/context.js';
import { HubClient, HubRequestError } from '../../controllers/hub-client.js';
import { Loader } from '../../controllers/loader.js';
import { field } from '../../internal/format.js';
import { SondeElement } from '../../internal/sonde-element.js';
import type { AuditExportStatus, Me } from '../../internal/types.js';
import { controls, tokens } from '../../theme/tokens.js';
import { styles } from './app.styles.js';

interface Route {
  path: string;
  label: string;
  group: 'Manage' | 'Fleet' | 'Diagnostics';
}

const ROUTES: Route[] = [
  { path: 'manage/users', label: 'Users', group: 'Manage' },
  { path: 'manage/keys', label: 'API Keys', group: 'Manage' },
  { path: 'manage/enrollment', label: 'Enrollment', group: 'Manage' },
  { path: 'manage/integrations', label: 'Integrations', group: 'Manage' },
  { path: 'manage/connected-apps', label: 'Connected apps', group: 'Manage' },
  { path: 'fleet', label: 'Fleet', group: 'Fleet' },
  { path: 'fleet/packs', label: 'Packs', group: 'Fleet' },
  { path: 'diagnostics/probe', label: 'Probe', group: 'Diagnostics' },
  { path: 'diagnostics/trends', label: 'Trends', group: 'Diagnostics' },
  { path: 'diagnostics/audit', label: 'Audit', group: 'Diagnostics' },
];

/**
 * The whole dashboard, built from the other elements: navigation Manage /
 * Fleet / Diagnostics (as in the administration guide), the local admin
 * login, a theme switch. Routes live in the URL hash (`#/fleet`,
 * `#/agent/<name>`), so reload and the back button work. Shares one hub
 * client with every element it shows.
 *
 * @summary The full dashboard: login, navigation and every screen.
 * @event sonde-session - Logged in or out; detail `{ state, name }`.
 * @csspart header - The top bar.
 * @csspart export-alert - The badge in the top bar while an audit export sink fails or falls behind (admins only).
 * @csspart nav - The navigation.
 * @csspart login - The login form.
 * @csspart sso - The "Sign in with …" link, when the hub has a single sign-on provider.
 * @csspart main - The page content.
 */
interface SsoProvider {
  kind: string;
  displayName: string;
  loginUrl: string;
  logoutUrl: string;
}

export class SondeApp extends SondeElement {
  static override styles = [tokens, controls, styles];
  static override properties: PropertyDeclarations = {
    ...SondeElement.properties,
    route: { state: true },
    me: { state: true },
    authState: { state: true },
    loginError: { state: true },
    sso: { state: true },
  };

  declare private route: string;
  declare private me: Me | undefined;
  declare private authState: 'checking' | 'anonymous' | 'signed-in' | 'unreachable';
  declare private loginError: string | undefined;
  /** The hub's single sign-on provider, when it has one (GET /api/v1/auth/providers). */
  declare private sso: SsoProvider | undefined;
  private readonly provider = new ContextProvider(this, { context: hubClientContext, initialValue: undefined });
  /**
   * The audit export sinks, for admins: a badge in the top bar while one fails or falls behind, on every page. Read
   * every 30 s, every 5 s while a sink is in trouble (so the badge goes soon after it recovers).
   */
  private readonly exportStatus = new Loader<AuditExportStatus>(
    this,
    (signal) => this.provider.value!.get<AuditExportStatus>('/api/v1/audit/export', signal),
    { pollMs: () => (this.me?.role !== 'admin' || this.authState !== 'signed-in' ? 0 : this.exportTrouble().length ? 5_000 : 30_000) },
  );
  private readonly onHash = (): void => {
    this.route = SondeApp.routeOf(location.hash);
  };

  constructor() {
    super();
    this.route = 'fleet';
    this.authState = 'checking';
  }

  private static routeOf(hash: string): string {
    const route = decodeURIComponent(hash.replace(/^#\/?/, ''));
    return route || 'fleet';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.route = SondeApp.routeOf(location.hash);
    addEventListener('hashchange', this.onHash);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHash);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('hub') || changed.has('token') || !this.provider.value) {
      // Children get the app's own client (its hub/token, or the session cookie), never the context above it.
      const client = new HubClient({ hub: this.hub, token: this.token, fetchToken: this.fetchToken });
      this.provider.setValue(client);
      void this.checkSession(client);
    }
    // `me` and `authState` are private state, which PropertyValues<this> does not name: read the map by key.
    const changedKeys = changed as Map<PropertyKey, unknown>;
    if ((changedKeys.has('me') || changedKeys.has('authState')) && this.authState === 'signed-in' && this.me?.role === 'admin')
      void this.exportStatus.run(true);
  }

  private exportTrouble(): AuditExportStatus['sinks'] {
    return (this.exportStatus.value?.sinks ?? []).filter((sink) => sink.failing || sink.behind);
  }

  private async checkSession(client: HubClient): Promise<void> {
    this.authState = 'checking';
    try {
      this.me = await client.get<Me>('/api/v1/auth/me');
      this.authState = 'signed-in';
    } catch (error) {
      this.me = undefined;
      this.authState = error instanceof HubRequestError && error.status === 401 ? 'anonymous' : 'unreachable';
      this.loginError = this.authState === 'unreachable' ? (error as Error).message : undefined;
      if (this.authState === 'anonymous') await this.loadProviders(client);
    }
  }

  /** Offers "Sign in with …" when the hub has an OpenID Connect provider; shows why a sign-in came back refused. */
  private async loadProviders(client: HubClient): Promise<void> {
    try {
      this.sso = (await client.get<{ sso: SsoProvider | null }>('/api/v1/auth/providers')).sso ?? undefined;
    } catch {
      this.sso = undefined; // an older hub without the route: local sign-in only
    }
    const refused = new URLSearchParams(location.search).get('sso_error');
    if (refused) this.loginError = `Single sign-on was refused (${refused}). Ask an administrator to check your access.`;
  }

  private async login(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    this.loginError = undefined;
    try {
      this.me = await this.provider.value!.post<Me>('/api/v1/auth/login', {
        user: field(data, 'user'),
        password: typeof data.get('password') === 'string' ? (data.get('password') as string) : '',
      });
      this.authState = 'signed-in';
      this.emit('sonde-session', { state: 'login', name: this.me.name });
    } catch (error) {
      this.loginError =
        error instanceof HubRequestError && error.status === 401 ? 'Wrong user name or password.' : (error as Error).message;
    }
  }

  private async logout(): Promise<void> {
    const client = this.provider.value!;
    try {
      await client.post('/api/v1/auth/logout');
    } finally {
      this.me = undefined;
      this.authState = 'anonymous';
      this.emit('sonde-session', { state: 'logout' });
    }
    // The providers were read only if the page opened signed out: read them now, so the login page after a sign-out
    // offers "Sign in with …" as it does after a reload.
    await this.loadProviders(client);
  }

  private go(path: string): void {
    location.hash = `#/${path}`;
  }

  private toggleTheme(): void {
    const dark = this.theme ? this.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    this.theme = dark ? 'light' : 'dark';
  }

  protected override render(): unknown {
    if (this.authState === 'checking') return html`<main aria-busy="true">Loading…</main>`;
    if (this.authState !== 'signed-in') return this.renderLogin();
    const groups = ['Manage', 'Fleet', 'Diagnostics'] as const;
    const current = ROUTES.find((r) => this.route === r.path || (r.path === 'fleet' && this.route.startsWith('agent/')));
    return html`
      <header part="header">
        <span class="brand">Sonde</span>
        <nav part="nav" aria-label="Dashboard">
          ${groups.map(
            (group) =>
              html`<div class="group" role="group" aria-label=${group}>
                ${group !== 'Fleet' ? html`<span class="group-label" aria-hidden="true">${group}</span>` : nothing}
                ${ROUTES.filter((r) => r.group === group).map(
                  (r) => html`<a href=${`#/${r.path}`} aria-current=${current === r ? 'page' : nothing}>${r.label}</a>`,
                )}
              </div>`,
          )}
        </nav>
        <span class="spacer"></span>
        ${this.renderExportAlert()}
        <button type="button" @click=${() => this.toggleTheme()} aria-label="Switch light/dark theme">◐</button>
        <span class="muted">${this.me?.name}</span>
        ${this.me?.kind === 'user' ? html`<button type="button" @click=${() => void this.logout()}>Sign out</button>` : nothing}
      </header>
      <main part="main">${this.renderPage()}</main>
    `;
  }

  /** A scoped key or an older hub cannot read the export status (403, 404): then no badge, as with nothing wrong. */
  private renderExportAlert(): unknown {
    if (this.me?.role !== 'admin') return nothing;
    const trouble = this.exportTrouble();
    if (!trouble.length) return nothing;
    const failing = trouble.some((sink) => sink.failing);
    const title = trouble
      .map(
        (sink) =>
          `${sink.sink}: ${sink.lagEntries} entries not delivered, the oldest ${sink.lagSeconds} s old` +
          (sink.lastError ? ` (${sink.lastError})` : ''),
      )
      .join('\n');
    return html`<a
      part="export-alert"
      class=${`export-alert ${failing ? 'failing' : 'behind'}`}
      href="#/diagnostics/audit"
      role="alert"
      title=${title}
      data-export=${failing ? 'failing' : 'behind'}
      >⚠ Audit export: ${trouble.map((sink) => `${sink.sink} ${sink.failing ? 'failing' : 'behind'}`).join(', ')}</a
    >`;
  }

  private renderPage(): unknown {
    const t = (name: string): ReturnType<typeof unsafeStatic> => unsafeStatic(this.tagFor(name));
    const theme = this.theme ?? nothing;
    if (this.route.startsWith('agent/')) {
      const name = this.route.slice('agent/'.length);
      return html`<div class="crumb"><a href="#/fleet">← Fleet</a></div>
        <${t('agent')} agent=${name} theme=${theme} @sonde-agent-removed=${() => this.go('fleet')}></${t('agent')}>`;
    }
    switch (this.route) {
      case 'manage/users':
        return html`<${t('users')} theme=${theme}></${t('users')}>`;
      case 'manage/keys':
        return html`<${t('api-keys')} theme=${theme}></${t('api-keys')}>`;
      case 'manage/enrollment':
        return html`<${t('enrollment')} theme=${theme}></${t('enrollment')}>`;
      case 'fleet/packs':
        return html`<${t('packs')} theme=${theme} @sonde-agent-select=${(e: CustomEvent<{ name: string }>) =>
          this.go(`agent/${encodeURIComponent(e.detail.name)}`)}></${t('packs')}>`;
      case 'manage/integrations':
        return html`<${t('integrations')} theme=${theme}></${t('integrations')}>`;
      case 'manage/connected-apps':
        return html`<${t('connected-apps')} theme=${theme}></${t('connected-apps')}>`;
      case 'diagnostics/probe':
        return html`<${t('probe')} theme=${theme}></${t('probe')}>`;
      case 'diagnostics/trends':
        return html`<${t('trends')} theme=${theme}></${t('trends')}>`;
      case 'diagnostics/audit':
        return html`<${t('audit-log')} theme=${theme}></${t('audit-log')}>`;
      default:
        return html`<h2>Fleet</h2>
          <${t('fleet')} theme=${theme} @sonde-agent-select=${(e: CustomEvent<{ name: string }>) =>
            this.go(`agent/${encodeURIComponent(e.detail.name)}`)}></${t('fleet')}>`;
    }
  }

  private renderLogin(): unknown {
    return html`<form class="login" part="login" aria-label="Sign in" @submit=${(e: SubmitEvent) => void this.login(e)}>
      <h1>Sonde</h1>
      <label>User <input name="user" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${this.loginError ? html`<div class="message error" role="alert">${this.loginError}</div>` : nothing}
      <button class="primary" type="submit">Sign in</button>
      ${
        this.sso
          ? html`<a class="sso" part="sso" href=${new URL(this.sso.loginUrl, this.hub || location.origin).href}
              >Sign in with ${this.sso.displayName}</a
            >`
          : nothing
      }
    </form>`;
  }
}
