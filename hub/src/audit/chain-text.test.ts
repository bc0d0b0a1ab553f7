import { createHmac } from 'node:crypto';
import { canonicalJson } from '@sonde/pack-sdk/protocol';
import { describe, expect, it } from 'vitest';
import { canonicalParams, chainHash, chainPayload, chainText, entryHash, GENESIS_HASH } from './chain-text.js';
import { GOLDEN } from './golden.js';

describe('the audit chain format (golden vector)', () => {
  const { entry, at } = GOLDEN;

  it('builds exactly the pinned text for an entry', () => {
    const text = chainText(
      1,
      at,
      entry.action,
      entry.actor.kind,
      entry.actor.id,
      entry.actor.name,
      entry.clientId,
      entry.tool,
      canonicalJson(entry.agents),
      entry.probe,
      canonicalParams(entry.params),
      entry.status,
      entry.resultBytes,
      entry.durationMs,
      entry.detail,
    );
    expect(text).toBe(GOLDEN.text);
    // The text is the canonical JSON of the entry's fields: what chainPayload and canonicalJson give.
    expect(canonicalJson(chainPayload(1, at, entry))).toBe(GOLDEN.text);
  });

  it('hashes HMAC-SHA256(key, prevHash "\\n" text), chained from the genesis hash', () => {
    const byHand = createHmac('sha256', GOLDEN.key).update(`${GENESIS_HASH}\n${GOLDEN.text}`).digest('hex');
    expect(byHand).toBe(GOLDEN.hash);
    expect(entryHash(GOLDEN.key, GENESIS_HASH, 1, at, entry)).toBe(GOLDEN.hash);
    expect(chainHash(GOLDEN.key, GENESIS_HASH, chainPayload(1, at, entry))).toBe(GOLDEN.hash);
    expect(entryHash(GOLDEN.key, GOLDEN.hash, 2, GOLDEN.second.at, GOLDEN.second.entry)).toBe(GOLDEN.second.hash);
  });
});
