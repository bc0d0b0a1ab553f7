import { describe, expect, it } from 'vitest';
import { AuditRing, GENESIS_HASH, verifyAuditChain } from './ring.js';

function filled(count: number, capacity = 100): AuditRing {
  const ring = new AuditRing(capacity);
  for (let i = 0; i < count; i++)
    ring.append({ requestId: `r${i}`, probe: 'system.disk.usage', params: { i }, status: 'ok', durationMs: i });
  return ring;
}

describe('AuditRing', () => {
  it('chains entries from the genesis hash and verifies', () => {
    const entries = filled(5).list();
    expect(entries[0].prevHash).toBe(GENESIS_HASH);
    expect(entries[3].prevHash).toBe(entries[2].hash);
    expect(verifyAuditChain(entries)).toEqual({ ok: true, checked: 5 });
  });

  it('keeps only the newest entries and still verifies after wrapping', () => {
    const entries = filled(25, 10).list();
    expect(entries).toHaveLength(10);
    expect(entries[0].seq).toBe(15);
    expect(verifyAuditChain(entries).ok).toBe(true);
  });

  it('detects an edited, a removed and a reordered entry', () => {
    const edited = filled(5).list();
    edited[2] = { ...edited[2], status: 'error' };
    expect(verifyAuditChain(edited)).toMatchObject({ ok: false, brokenAt: 2 });

    const removed = filled(5).list();
    removed.splice(2, 1);
    expect(verifyAuditChain(removed)).toMatchObject({ ok: false, brokenAt: 3 });

    const swapped = filled(5).list();
    [swapped[1], swapped[2]] = [swapped[2], swapped[1]];
    expect(verifyAuditChain(swapped).ok).toBe(false);
  });

  it('records a digest of the params, not their values', () => {
    const ring = new AuditRing(10);
    const entry = ring.append({ requestId: 'r', probe: 'p.q', params: { password: 'hunter2' }, status: 'ok', durationMs: 1 });
    expect(JSON.stringify(entry)).not.toContain('hunter2');
    expect(entry.paramsSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
