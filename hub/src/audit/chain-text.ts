import { createHmac, type KeyObject } from 'node:crypto';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import type { AuditEntryInput } from '../services.js';
import type { AuditChainRow } from '../store/types.js';

/**
 * The audit chain's format, defined once for every store: what is hashed for
 * an entry, and how. Each entry's hash is
 * HMAC-SHA256(auditKey, prevHash "\n" chainText), where chainText is the
 * canonical JSON (keys sorted, no spaces) of the entry's fields below; the
 * first entry's prevHash is GENESIS_HASH. A store keeps `agents` and `params`
 * as this canonical text, so a stored row's text is rebuilt from its columns
 * without parsing (the golden vector in chain-text.test.ts pins the bytes).
 */

/** The `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

let lastParams: { input: unknown; text: string | null } | undefined;

/**
 * Params as stored and as the chain hashes them: plain JSON values (what
 * JSON.stringify keeps), keys sorted. Stored in this canonical form, a row's
 * params column is the exact text the chain covers, so verification can hash
 * it without parsing it.
 */
export function canonicalParams(params: unknown): string | null {
  if (params === undefined || params === null) return null;
  // The audit log and the store both need it for the same entry, one after the other.
  if (lastParams?.input === params) return lastParams.text;
  const text = canonicalJson(JSON.parse(JSON.stringify(params)) as unknown);
  lastParams = { input: params, text };
  return text;
}

/** An unpaired UTF-16 surrogate (in a `u` regex a pair is one code point, so only lone halves match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
const wellFormed = <T extends string | null | undefined>(text: T): T =>
  (typeof text === 'string' && LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text) as T;

/**
 * The entry as it is hashed and stored: a lone surrogate in a text field (a client can send one in a tool name or
 * an error message) becomes U+FFFD. Stored as UTF-8 it would come back as U+FFFD anyway, so the text rebuilt at
 * verification would differ from the text hashed at append and the chain would fail for good. (`params` and
 * `agents` are JSON text, where JSON.stringify already escapes a lone surrogate.)
 */
export function wellFormedEntry<T extends AuditEntryInput>(entry: T): T {
  const { actor } = entry;
  const texts = [entry.action, actor.id, actor.name, entry.clientId, entry.tool, entry.probe, entry.detail, entry.status];
  if (!texts.some((text) => typeof text === 'string' && LONE_SURROGATE.test(text))) return entry;
  return {
    ...entry,
    action: wellFormed(entry.action),
    actor: { ...actor, id: wellFormed(actor.id), name: wellFormed(actor.name) },
    clientId: wellFormed(entry.clientId),
    tool: wellFormed(entry.tool),
    probe: wellFormed(entry.probe),
    detail: wellFormed(entry.detail),
  };
}

/**
 * What the chain covers: every field of the entry in one normalised form, so
 * the value hashed at append time is exactly what a later read reproduces.
 */
export function chainPayload(seq: number, at: string, entry: AuditEntryInput): unknown {
  return {
    seq,
    at,
    action: entry.action,
    actor: { kind: entry.actor.kind, id: entry.actor.id ?? null, name: entry.actor.name ?? null },
    clientId: entry.clientId ?? null,
    tool: entry.tool ?? null,
    agents: entry.agents ?? [],
    probe: entry.probe ?? null,
    params: entry.params === undefined || entry.params === null ? null : (JSON.parse(JSON.stringify(entry.params)) as unknown),
    status: entry.status,
    resultBytes: entry.resultBytes ?? null,
    durationMs: entry.durationMs ?? null,
    detail: entry.detail ?? null,
  };
}

/**
 * The audit key as a KeyObject: Node 24 re-imports a raw Buffer key on every
 * createHmac (24 us per HMAC against 3.6 us with a KeyObject; Node 20: 4.3 vs
 * 3.9), and the chain takes two per append and one per verified row.
 */
export type MacKey = Buffer | KeyObject;

/** HMAC-SHA256(key, prevHash "\n" canonicalJson(entry)): rewriting the chain needs the key, which needs SONDE_SECRET. */
export function chainHash(key: MacKey, prevHash: string, payload: unknown): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(canonicalJson(payload)).digest('hex');
}

const json = JSON.stringify;
function jsonOrNull(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : json(value);
}
function numberOrNull(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
  return json(value);
}

/**
 * `canonicalJson(chainPayload(...))` written out directly (keys in sorted
 * order): the same bytes, without building the payload object and sorting its
 * keys for every entry. `agents` and `params` are given as canonical JSON text.
 */
export function chainText(
  seq: number,
  at: string,
  action: string,
  actorKind: string,
  actorId: string | null | undefined,
  actorName: string | null | undefined,
  clientId: string | null | undefined,
  tool: string | null | undefined,
  agents: string,
  probe: string | null | undefined,
  params: string | null,
  status: string,
  resultBytes: number | null | undefined,
  durationMs: number | null | undefined,
  detail: string | null | undefined,
): string {
  return (
    `{"action":${json(action)},"actor":{"id":${jsonOrNull(actorId)},"kind":${json(actorKind)},"name":${jsonOrNull(actorName)}}` +
    `,"agents":${agents},"at":${json(at)},"clientId":${jsonOrNull(clientId)},"detail":${jsonOrNull(detail)}` +
    `,"durationMs":${numberOrNull(durationMs)},"params":${params ?? 'null'},"probe":${jsonOrNull(probe)}` +
    `,"resultBytes":${numberOrNull(resultBytes)},"seq":${numberOrNull(seq)},"status":${json(status)},"tool":${jsonOrNull(tool)}}`
  );
}

export function hmacHex(key: MacKey, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The chain hash of an entry being appended (equal to `chainHash(key, prevHash, chainPayload(seq, at, entry))`). */
export function entryHash(key: MacKey, prevHash: string, seq: number, at: string, entry: AuditEntryInput): string {
  const text = chainText(
    seq,
    at,
    entry.action,
    entry.actor.kind,
    entry.actor.id,
    entry.actor.name,
    entry.clientId,
    entry.tool,
    canonicalJson(entry.agents ?? []),
    entry.probe,
    canonicalParams(entry.params),
    entry.status,
    entry.resultBytes,
    entry.durationMs,
    entry.detail,
  );
  return hmacHex(key, `${prevHash}\n${text}`);
}

/**
 * The hash of a stored row, from its columns as stored. Rows this version
 * wrote hold agents and params in canonical form, so that text is hashed as is;
 * for anything else (rows written before params were stored canonically) the
 * caller falls back to parsing the row (`slowRowHash`).
 */
export function storedRowHash(key: MacKey, prevHash: string, row: AuditChainRow): string {
  const text = chainText(
    row[0],
    row[1],
    row[2],
    row[3],
    row[4],
    row[5],
    row[6],
    row[7],
    row[8],
    row[9],
    row[10],
    row[11],
    row[12],
    row[13],
    row[14],
  );
  return hmacHex(key, `${prevHash}\n${text}`);
}

export function slowRowHash(key: MacKey, prevHash: string, row: AuditChainRow): string {
  let agents: unknown = [];
  let params: unknown = null;
  try {
    agents = JSON.parse(row[8]);
  } catch {
    agents = [];
  }
  try {
    params = row[10] === null ? null : JSON.parse(row[10]);
  } catch {
    params = null;
  }
  const entry: AuditEntryInput = {
    action: row[2],
    actor: { kind: row[3] as AuditEntryInput['actor']['kind'], id: row[4], name: row[5] },
    clientId: row[6],
    tool: row[7],
    agents: agents as string[],
    probe: row[9],
    params: params,
    status: row[11] as AuditEntryInput['status'],
    resultBytes: row[12] ?? undefined,
    durationMs: row[13] ?? undefined,
    detail: row[14],
  };
  return chainHash(key, prevHash, chainPayload(row[0], row[1], entry));
}
