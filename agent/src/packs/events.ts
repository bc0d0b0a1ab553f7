import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { z } from 'zod';
import type { HomePaths } from '../home.js';

/**
 * What operators did to packs (install, update, approve, reject, remove, refusals),
 * appended by the CLI to SONDE_HOME/pack-events.jsonl, one hash-chained line
 * each, so the running agent can forward them to the hub's audit and an
 * edit to the file shows. The file is the agent's own, 0600.
 */

export const PackEventSchema = z
  .object({
    seq: z.number().int().nonnegative(),
    time: z.string(),
    action: z.enum(['install', 'update', 'approve', 'reject', 'remove', 'revocations']),
    pack: z.string().max(300),
    version: z.string().max(100).optional(),
    from: z.string().max(100).optional(),
    outcome: z.string().max(40),
    integrity: z.string().max(100).optional(),
    keyId: z.string().max(40).optional(),
    added: z.array(z.string().max(500)).max(200).optional(),
    detail: z.string().max(2000).optional(),
    by: z.string().max(200).optional(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .strict();

export type PackEvent = z.infer<typeof PackEventSchema>;
export type PackEventInput = Omit<PackEvent, 'seq' | 'time' | 'prevHash' | 'hash'>;

const GENESIS = '0'.repeat(64);

export function packEventsFile(paths: HomePaths): string {
  return path.join(paths.home, 'pack-events.jsonl');
}

export function readPackEvents(paths: HomePaths): PackEvent[] {
  const file = packEventsFile(paths);
  if (!existsSync(file)) return [];
  const events: PackEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = PackEventSchema.safeParse(JSON.parse(line));
      if (parsed.success) events.push(parsed.data);
    } catch {
      // A torn last line (crash mid-append) is skipped; the chain check reports it.
    }
  }
  return events;
}

function hashOf(event: Omit<PackEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

/** True when every line links to the previous one and hashes to what it claims. */
export function verifyPackEvents(events: readonly PackEvent[]): boolean {
  let prev = GENESIS;
  for (const event of events) {
    const { hash, ...rest } = event;
    if (event.prevHash !== prev || hashOf(rest) !== hash) return false;
    prev = hash;
  }
  return true;
}

export function recordPackEvent(paths: HomePaths, input: PackEventInput): PackEvent {
  const events = readPackEvents(paths);
  const last = events.at(-1);
  const base = {
    seq: last ? last.seq + 1 : 0,
    time: new Date().toISOString(),
    ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)),
    prevHash: last?.hash ?? GENESIS,
  } as Omit<PackEvent, 'hash'>;
  const event = { ...base, hash: hashOf(base) };
  const file = packEventsFile(paths);
  appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return event;
}
