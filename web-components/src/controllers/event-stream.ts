import type { AgentView, AuditRecord, IntegrationPackView } from '../internal/types.js';
import { HubRequestError, type HubClient } from './hub-client.js';

/**
 * The hub's live event stream (`GET /api/v1/events`, Server-Sent Events),
 * one per hub client however many elements follow it. Read with `fetch`
 * (EventSource cannot send the Authorization header an embed token needs).
 * It keeps the fleet it was told about, so an element that subscribes late
 * gets the current agents at once; it reconnects with backoff and resumes
 * from the last event id. A hub without the route (404) or a caller it
 * refuses (401/403) makes the stream `unavailable`: elements poll instead.
 */
export type HubEvent =
  /** `integrations` only for a caller that sees the whole hub (and from hubs that send them). */
  | { type: 'snapshot'; agents: AgentView[]; auditSeq: number | null; integrations?: IntegrationPackView[] }
  | { type: 'agent'; agent: AgentView }
  | { type: 'agent-removed'; id: string; name: string }
  | { type: 'audit'; entry: AuditRecord }
  | { type: 'integration'; pack: IntegrationPackView }
  | { type: 'integration-removed'; name: string };

export type StreamState = 'connecting' | 'live' | 'retrying' | 'unavailable' | 'closed';

export interface StreamListener {
  event?(event: HubEvent): void;
  state?(state: StreamState): void;
}

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Splits an SSE byte stream's text into messages; keeps the unfinished tail for the next chunk. */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  const normalised = buffer.replace(/\r\n?/g, '\n');
  let start = 0;
  let cut: number;
  while ((cut = normalised.indexOf('\n\n', start)) >= 0) {
    const block = normalised.slice(start, cut);
    start = cut + 2;
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) messages.push({ id, event, data: data.join('\n') });
  }
  return { messages, rest: normalised.slice(start) };
}

const MAX_BACKOFF_MS = 15_000;

export class HubEventStream {
  state: StreamState = 'closed';
  /** The fleet as the stream last described it (by id), once a snapshot arrived. */
  agents: Map<string, AgentView> | undefined;
  /** The integration packs as the stream last described them (by name), when it describes them. */
  integrations: Map<string, IntegrationPackView> | undefined;
  private readonly listeners = new Set<StreamListener>();
  private abort: AbortController | undefined;
  private lastId: string | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;

  constructor(private readonly client: HubClient) {}

  /** Starts the stream with the first listener; the last one leaving stops it. */
  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    if (this.agents && this.state === 'live')
      listener.event?.({
        type: 'snapshot',
        agents: [...this.agents.values()],
        auditSeq: null,
        ...(this.integrations ? { integrations: [...this.integrations.values()] } : {}),
      });
    listener.state?.(this.state === 'closed' ? 'connecting' : this.state);
    if (this.state === 'closed') void this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private setState(state: StreamState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.listeners) listener.state?.(state);
  }

  private stop(): void {
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.abort = undefined;
    this.state = 'closed';
  }

  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    this.setState(this.failures ? 'retrying' : 'connecting');
    try {
      const response = await this.client.openStream('/api/v1/events', this.lastId, abort.signal);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const { messages, rest } = parseSse(buffer);
        buffer = rest;
        for (const message of messages) this.handle(message);
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      if (error instanceof HubRequestError && [401, 403, 404, 405].includes(error.status)) {
        this.setState('unavailable');
        return;
      }
    }
    if (abort.signal.aborted) return;
    // The hub ended the stream (restart, too slow, credentials re-checked) or the network dropped: come back.
    this.failures += 1;
    this.setState('retrying');
    const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 5)) * (0.75 + Math.random() / 2);
    this.retryTimer = setTimeout(() => void this.connect(), wait);
  }

  private handle(message: SseMessage): void {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (message.id) this.lastId = message.id;
    let event: HubEvent | undefined;
    if (message.event === 'snapshot') {
      const snapshot = data as { agents: AgentView[]; auditSeq: number | null; integrations?: IntegrationPackView[] };
      this.agents = new Map(snapshot.agents.map((agent) => [agent.id, agent]));
      this.integrations = snapshot.integrations ? new Map(snapshot.integrations.map((pack) => [pack.name, pack])) : undefined;
      event = {
        type: 'snapshot',
        agents: snapshot.agents,
        auditSeq: snapshot.auditSeq,
        ...(snapshot.integrations ? { integrations: snapshot.integrations } : {}),
      };
    } else if (message.event === 'agent') {
      const { agent } = data as { agent: AgentView };
      this.agents?.set(agent.id, agent);
      event = { type: 'agent', agent };
    } else if (message.event === 'agent-removed') {
      const removed = data as { id: string; name: string };
      this.agents?.delete(removed.id);
      event = { type: 'agent-removed', ...removed };
    } else if (message.event === 'audit') {
      event = { type: 'audit', entry: (data as { entry: AuditRecord }).entry };
    } else if (message.event === 'integration') {
      const { pack } = data as { pack: IntegrationPackView };
      this.integrations?.set(pack.name, pack);
      event = { type: 'integration', pack };
    } else if (message.event === 'integration-removed') {
      const { name } = data as { name: string };
      this.integrations?.delete(name);
      event = { type: 'integration-removed', name };
    }
    this.failures = 0;
    this.setState('live');
    if (event) for (const listener of this.listeners) listener.event?.(event);
  }
}

const streams = new WeakMap<HubClient, HubEventStream>();

/** The one stream of this client (elements sharing a provider share it). */
export function eventsOf(client: HubClient): HubEventStream {
  let stream = streams.get(client);
  if (!stream) {
    stream = new HubEventStream(client);
    streams.set(client, stream);
  }
  return stream;
}
