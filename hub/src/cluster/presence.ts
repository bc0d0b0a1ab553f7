import type { KV } from '@nats-io/kv';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { HubLeases } from './lease.js';

/**
 * `agentId → hubId`: which hub holds an agent's socket, in a KV bucket every
 * hub follows (watch → `holders`, read synchronously by routing and the fleet
 * view). Writes are compare-and-set on the key's revision, so two hubs
 * claiming one identity at once cannot both win; an entry whose hub's lease
 * ran out counts as nobody's (readers check `HubLeases.isLive`), which is how
 * a dead hub's agents become free to register elsewhere without anyone having
 * to clean up first.
 */

export const PresenceSchema = z.object({ hubId: z.string(), at: z.string() }).strict();
export type PresenceRecord = z.infer<typeof PresenceSchema>;

export interface Holder {
  hubId: string;
  revision: number;
}

/** What `claim` needs to know about the current holder before it may take an identity over. */
export type HolderCheck = (hubId: string, agentId: string) => Promise<'alive' | 'gone'>;

export type ClaimOutcome = { ok: true } | { ok: false; holderHub: string };

const WRONG_SEQUENCE = 10071;

export class Presence {
  private readonly holders = new Map<string, Holder>();
  /** The last revision the watch saw of each key, a deletion's included: the claim's first compare-and-set uses it. */
  private readonly revisions = new Map<string, number>();
  /** Revisions of the entries this hub wrote, so a release never deletes another hub's claim. */
  private readonly own = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private watcher: { stop(): void } | undefined;
  private changes = 0;

  constructor(
    private readonly kv: KV,
    private readonly leases: HubLeases,
    private readonly hubId: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Loads every entry and follows the bucket; resolves once the initial values are in. */
  async start(): Promise<void> {
    const watch = await this.kv.watch({ key: '>' });
    this.watcher = watch;
    let markInitial: () => void = () => undefined;
    const initial = new Promise<void>((resolve) => (markInitial = resolve));
    // An empty bucket sends nothing before the first update: `getPending`-free check via status.
    const status = await this.kv.status();
    if (status.values === 0) markInitial();
    void (async () => {
      for await (const entry of watch) {
        this.revisions.set(entry.key, entry.revision);
        if (entry.operation === 'PUT') {
          const parsed = PresenceSchema.safeParse(safeJson(entry.string()));
          if (parsed.success) this.holders.set(entry.key, { hubId: parsed.data.hubId, revision: entry.revision });
          else this.holders.delete(entry.key);
        } else {
          this.holders.delete(entry.key);
        }
        this.changes++;
        if (entry.delta === 0) markInitial();
        for (const listener of this.listeners) listener();
      }
    })().catch((err: unknown) => this.log.warn({ err }, 'presence watch ended'));
    await initial;
  }

  stop(): void {
    this.watcher?.stop();
  }

  /** Follows the bucket again from its current content (after NATS came back without its store). */
  async rewatch(): Promise<void> {
    this.watcher?.stop();
    this.holders.clear();
    this.revisions.clear();
    this.changes++;
    await this.start();
  }

  /** The live hub holding this agent's socket, if any (another hub's entry whose lease ran out is nobody's). */
  holderOf(agentId: string): string | undefined {
    const holder = this.holders.get(agentId);
    return holder && this.leases.isLive(holder.hubId) ? holder.hubId : undefined;
  }

  /** Moves whenever an entry changes (the fleet view caches on it, with the lease set). */
  version(): number {
    return this.changes;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Claims the identity for this hub. An entry of this hub (an earlier socket) or of a dead hub is
   * taken over; a live holder on another hub is asked (`check`) whether its socket still answers a
   * ping, and keeps the identity if it does. Every write is compare-and-set: a lost race is retried
   * from a fresh read, and three lost races refuse.
   *
   * When the watch shows no live holder on another hub (the usual case: a new agent, one released on
   * disconnect, one of this hub or of a dead hub), the first write is a compare-and-set on the revision the
   * watch last saw (none: "the key must not exist"), one round trip to NATS instead of a read and a write.
   * If the watch was behind, the server refuses the write and the claim continues from a fresh read, so a
   * stale view can cost a round trip but never let two hubs win.
   */
  async claim(agentId: string, check: HolderCheck): Promise<ClaimOutcome> {
    const value = JSON.stringify({ hubId: this.hubId, at: new Date().toISOString() } satisfies PresenceRecord);
    const seen = this.holders.get(agentId);
    if (!seen || seen.hubId === this.hubId || !this.leases.isLive(seen.hubId)) {
      try {
        const revision = await this.kv.put(agentId, value, {
          previousSeq: this.own.get(agentId) ?? this.revisions.get(agentId) ?? 0,
        });
        this.own.set(agentId, revision);
        return { ok: true };
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
        this.log.debug({ agentId }, 'presence changed since the watch saw it; reading it');
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = await this.kv.get(agentId);
      const current = entry?.operation === 'PUT' ? PresenceSchema.safeParse(safeJson(entry.string())) : undefined;
      try {
        if (!entry || !current?.success) {
          const revision = entry ? await this.kv.update(agentId, value, entry.revision) : await this.kv.create(agentId, value);
          this.own.set(agentId, revision);
          return { ok: true };
        }
        const holderHub = current.data.hubId;
        if (holderHub !== this.hubId && this.leases.isLive(holderHub)) {
          if ((await check(holderHub, agentId)) === 'alive') return { ok: false, holderHub };
        }
        this.own.set(agentId, await this.kv.update(agentId, value, entry.revision));
        return { ok: true };
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
        this.log.debug({ agentId }, 'presence claim raced another hub; reading again');
      }
    }
    return { ok: false, holderHub: this.holders.get(agentId)?.hubId ?? 'another hub' };
  }

  /** Deletes this hub's entry for the agent, unless another hub has claimed it since. */
  async release(agentId: string): Promise<void> {
    const revision = this.own.get(agentId);
    if (revision === undefined) return;
    this.own.delete(agentId);
    try {
      await this.kv.delete(agentId, { previousSeq: revision });
    } catch (err) {
      if (!isWrongSequence(err)) this.log.warn({ err, agentId }, 'could not release the agent’s presence entry');
    }
  }

  /** Every identity this hub holds (shutdown releases them all). */
  owned(): string[] {
    return [...this.own.keys()];
  }

  /** Entries of hubs whose lease ran out: deleted (compare-and-set) by one live hub so the bucket stays small. */
  async sweepDead(): Promise<number> {
    let swept = 0;
    for (const [agentId, holder] of this.holders) {
      if (this.leases.isLive(holder.hubId)) continue;
      try {
        await this.kv.delete(agentId, { previousSeq: holder.revision });
        swept++;
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
    return swept;
  }
}

export function isWrongSequence(err: unknown): boolean {
  const api = (err as { code?: unknown; api_error?: { err_code?: unknown } } | null) ?? {};
  if (api.api_error?.err_code === WRONG_SEQUENCE) return true;
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
