import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { FailureWindow, type AttemptCounter, type AttemptCounters } from '../auth/rate-limit.js';
import { isWrongSequence } from './presence.js';

/**
 * Failure windows shared by every hub (login throttling, sign-in starts, client registrations): one KV
 * entry per window and key, `{ count, resetAt }`, advanced by compare-and-set on the entry's revision,
 * so two hubs counting a failure at once both count. Keys are hashed (addresses and user names never
 * reach NATS in clear, and any text fits the KV key alphabet).
 *
 * Each window is also counted in this process, and a hub blocks on the larger of the two counts. So when
 * NATS cannot be reached (or answers too slowly: every call is bounded by the JetStream timeout the
 * bucket was opened with) a hub still throttles on its own as a single hub does; it never lets a caller
 * through because the shared count could not be read.
 *
 * NATS 2.9 has no per-key TTL: an entry carries its own `resetAt` and readers decide; the bucket's
 * max age (the longest window) sweeps away entries nobody touched since.
 */

const EntrySchema = z.object({ count: z.number().int().min(0), resetAt: z.number().int() }).strict();
type Entry = z.infer<typeof EntrySchema>;

const MAX_CAS_ATTEMPTS = 5;

export function limitKey(name: string, key: string): string {
  return `${name}.${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

export class SharedAttemptCounters implements AttemptCounters {
  constructor(
    private readonly kv: KV,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {}

  window(name: string, maxFailures: number, windowMs: number): AttemptCounter {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`invalid window name ${name}`);
    const local = new FailureWindow(maxFailures, windowMs);
    const read = async (key: string): Promise<{ entry: Entry | undefined; revision: number | undefined }> => {
      const stored = await this.kv.get(limitKey(name, key));
      if (!stored) return { entry: undefined, revision: undefined };
      if (stored.operation !== 'PUT') return { entry: undefined, revision: stored.revision };
      const parsed = EntrySchema.safeParse(safeJson(stored.string()));
      return { entry: parsed.success ? parsed.data : undefined, revision: stored.revision };
    };
    return {
      blockedFor: async (key) => {
        const now = this.now();
        const mine = local.blockedFor(key, now);
        try {
          const { entry } = await read(key);
          const shared = entry && entry.resetAt > now && entry.count >= maxFailures ? entry.resetAt - now : 0;
          return Math.max(mine, shared);
        } catch (err) {
          this.log.warn({ err, window: name }, 'shared attempt count unreadable (NATS unreachable?): this hub’s own count applies');
          return mine;
        }
      },
      fail: async (key) => {
        local.fail(key, this.now());
        const k = limitKey(name, key);
        try {
          for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            const now = this.now();
            const { entry, revision } = await read(key);
            const next: Entry =
              entry && entry.resetAt > now ? { count: entry.count + 1, resetAt: entry.resetAt } : { count: 1, resetAt: now + windowMs };
            try {
              if (revision === undefined) await this.kv.create(k, JSON.stringify(next));
              else await this.kv.update(k, JSON.stringify(next), revision);
              return;
            } catch (err) {
              if (!isWrongSequence(err) && !isExists(err)) throw err;
            }
          }
          this.log.warn({ window: name }, 'shared attempt count kept changing under this hub; this failure counted here only');
        } catch (err) {
          this.log.warn({ err, window: name }, 'could not count a failure in NATS (unreachable?): counted on this hub only');
        }
      },
      reset: async (key) => {
        local.reset(key);
        try {
          await this.kv.delete(limitKey(name, key));
        } catch (err) {
          this.log.warn({ err, window: name }, 'could not clear a shared attempt count');
        }
      },
    };
  }
}

function isExists(err: unknown): boolean {
  return err instanceof Error && /exists/i.test(err.message);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
