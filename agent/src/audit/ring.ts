import { createHash } from 'node:crypto';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';

export const AuditEntrySchema = z
  .object({
    seq: z.number().int().nonnegative(),
    time: z.string(),
    requestId: z.string(),
    probe: z.string(),
    /** SHA-256 of the canonical params: proves what ran without keeping values that may be sensitive. */
    paramsSha256: z.string(),
    status: z.string(),
    durationMs: z.number(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .strict();

export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditInput = Pick<AuditEntry, 'requestId' | 'probe' | 'status' | 'durationMs'> & { params: unknown; time?: Date };

export const GENESIS_HASH = '0'.repeat(64);

function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

export function paramsDigest(params: unknown): string {
  let text: string;
  try {
    text = canonicalJson(params ?? {});
  } catch {
    text = JSON.stringify(String(params));
  }
  return createHash('sha256').update(text).digest('hex');
}

/**
 * In-memory, hash-chained ring of recent probe executions. Each entry hashes
 * its content with the previous entry's hash, so editing, reordering or
 * removing one from the middle breaks every later link. When the ring is full
 * the oldest entry falls out; the first kept entry's prevHash anchors the rest.
 */
export class AuditRing {
  private readonly entries: AuditEntry[] = [];
  private lastHash = GENESIS_HASH;
  private nextSeq = 0;

  constructor(private readonly capacity: number) {}

  append(input: AuditInput): AuditEntry {
    const base = {
      seq: this.nextSeq++,
      time: (input.time ?? new Date()).toISOString(),
      requestId: input.requestId,
      probe: input.probe,
      paramsSha256: paramsDigest(input.params),
      status: input.status,
      durationMs: Math.round(input.durationMs * 1000) / 1000,
      prevHash: this.lastHash,
    };
    const entry = { ...base, hash: entryHash(base) };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    this.lastHash = entry.hash;
    return entry;
  }

  list(): AuditEntry[] {
    return [...this.entries];
  }
}

export interface AuditVerdict {
  ok: boolean;
  checked: number;
  /** First broken entry (by seq) and why. */
  brokenAt?: number;
  reason?: string;
}

export function verifyAuditChain(entries: readonly AuditEntry[]): AuditVerdict {
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const { hash, ...rest } = entry;
    if (entryHash(rest) !== hash) return { ok: false, checked: i, brokenAt: entry.seq, reason: 'entry content does not match its hash' };
    const previous = entries[i - 1];
    if (previous) {
      if (entry.prevHash !== previous.hash)
        return { ok: false, checked: i, brokenAt: entry.seq, reason: 'prevHash does not link to the previous entry' };
      if (entry.seq !== previous.seq + 1)
        return { ok: false, checked: i, brokenAt: entry.seq, reason: 'sequence gap: an entry was removed' };
    } else if (entry.seq === 0 && entry.prevHash !== GENESIS_HASH) {
      return { ok: false, checked: i, brokenAt: entry.seq, reason: 'first entry does not start from the genesis hash' };
    }
  }
  return { ok: true, checked: entries.length };
}
