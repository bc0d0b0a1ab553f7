/**
 * The one way an element talks to the hub: its public REST API, JSON in and
 * out. A token (an API key or an embed token) goes in the Authorization
 * header; without one the browser sends the hub's session cookie, which only
 * works same-origin (the dashboard served by the hub itself).
 */
export interface HubClientOptions {
  /** Base URL of the hub, e.g. `https://hub.example.com`; empty for the page's own origin. */
  hub?: string;
  /** Bearer token (API key or embed token). */
  token?: string;
  /** Called for a fresh token when the hub answers 401 (short-lived embed tokens minted by a portal backend). */
  fetchToken?: () => Promise<string>;
}

/** A failed request, with the hub's stable error code when it sent one. */
export class HubRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HubRequestError';
  }
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export class HubClient {
  readonly base: string;
  private token: string | undefined;
  private readonly givenToken: string | undefined;
  private readonly fetchToken: (() => Promise<string>) | undefined;

  constructor(options: HubClientOptions = {}) {
    this.base = (options.hub ?? '').replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.givenToken = this.token;
    this.fetchToken = options.fetchToken;
  }

  /** Same hub and credentials: elements reuse a client instead of building one per render. */
  sameAs(options: HubClientOptions): boolean {
    // Compared with the token it was built with: a refreshed token (fetchToken) keeps the same client and its event stream.
    return (
      this.base === (options.hub ?? '').replace(/\/+$/, '') &&
      this.givenToken === (options.token || undefined) &&
      this.fetchToken === options.fetchToken
    );
  }

  /** Whether this client holds an embed token: it may only read what the token covers, so elements offer no actions. */
  get embedded(): boolean {
    return this.token?.startsWith(EMBED_PREFIX) ?? false;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal);
  }

  post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, body ?? {}, signal);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  async request<T>(method: HttpMethod, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    if (!this.token && this.fetchToken) this.token = await this.fetchToken();
    let response = await this.send(method, path, body, signal);
    if (response.status === 401 && this.fetchToken) {
      this.token = await this.fetchToken();
      response = await this.send(method, path, body, signal);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
      const message = typeof error?.message === 'string' ? error.message : `The hub answered ${response.status} ${response.statusText}.`;
      throw new HubRequestError(response.status, code, message);
    }
    return parsed as T;
  }

  /**
   * Opens a streaming GET (the event stream) with the same credentials; resolves once the hub answered 2xx with the
   * response left unread, or throws a HubRequestError like `request`.
   */
  async openStream(path: string, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    if (!this.token && this.fetchToken) this.token = await this.fetchToken();
    const extra: Record<string, string> = { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
    let response = await this.send('GET', path, undefined, signal, extra);
    if (response.status === 401 && this.fetchToken) {
      this.token = await this.fetchToken();
      response = await this.send('GET', path, undefined, signal, extra);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new HubRequestError(response.status, `HTTP_${response.status}`, `The hub answered ${response.status} to ${path}.`);
    }
    return response;
  }

  private async send(
    method: HttpMethod,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // A custom header a cross-site form cannot send: the hub's CSRF guard for cookie sessions.
    if (method !== 'GET') headers['x-sonde-csrf'] = '1';
    try {
      return await fetch(`${this.base}${this.token?.startsWith(EMBED_PREFIX) ? embedPath(path) : path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: this.token ? 'omit' : 'same-origin',
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new HubRequestError(0, 'NETWORK', `Cannot reach the hub${this.base ? ` at ${this.base}` : ''}: ${(error as Error).message}`);
    }
  }
}

const EMBED_PREFIX = 'sonde_embed_';

/**
 * An embed token is accepted only by the hub's embed routes, which answer the same shapes scoped to the token:
 * the reads a widget makes go there; anything else goes where it would and the hub refuses it.
 */
export function embedPath(path: string): string {
  return path
    .replace(/^\/api\/v1\/(agents|events)(?=$|[/?])/, '/api/v1/embed/$1')
    .replace(/^\/api\/v1\/audit(?=$|\?)/, '/api/v1/embed/probe-calls');
}

/** Percent-encodes one path segment (agent names, ids). */
export const seg = (value: string): string => encodeURIComponent(value);
