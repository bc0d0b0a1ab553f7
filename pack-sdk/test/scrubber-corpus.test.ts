import { describe, expect, it } from 'vitest';
import { createScrubber } from '@sonde/pack-sdk/scrubber';
import { INNOCENT_CORPUS, SECRET_CORPUS } from './scrubber-corpus.js';

const scrubber = createScrubber();

/**
 * The most innocent look-alikes the scrubber may change, in per cent of INNOCENT_CORPUS. Over-redaction
 * hides what an operator needs to read, so it is a defect too; a few are tolerated because some
 * look-alikes have exactly a secret's format (AWS's documented example key is one).
 */
const MAX_FALSE_POSITIVE_PERCENT = 5;

describe('scrubber corpus', () => {
  it('has at least 40 secrets and 40 innocent look-alikes', () => {
    expect(SECRET_CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(INNOCENT_CORPUS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(SECRET_CORPUS.map((c) => [c.label, c] as const))('redacts %s', (_label, c) => {
    const { value, redactions } = scrubber.scrub(c.text);
    expect(typeof value).toBe('string');
    for (const secret of c.secrets) expect(value as string).not.toContain(secret);
    for (const kept of c.keep ?? []) expect(value as string).toContain(kept);
    expect(value as string).toContain('[REDACTED]');
    expect(redactions).toBeGreaterThan(0);
  });

  it(`recall is 100 % and at most ${MAX_FALSE_POSITIVE_PERCENT} % of the innocent corpus is changed`, () => {
    const missed = SECRET_CORPUS.filter((c) => {
      const out = scrubber.scrub(c.text).value as string;
      return c.secrets.some((secret) => out.includes(secret));
    });
    const falsePositives = INNOCENT_CORPUS.filter((c) => scrubber.scrub(c.text).value !== c.text);
    const rate = (100 * falsePositives.length) / INNOCENT_CORPUS.length;
    console.log(
      `scrubber corpus: recall ${SECRET_CORPUS.length - missed.length}/${SECRET_CORPUS.length}; ` +
        `false positives ${falsePositives.length}/${INNOCENT_CORPUS.length} (${rate.toFixed(1)} %)` +
        (falsePositives.length ? `: ${falsePositives.map((c) => c.label).join(', ')}` : ''),
    );
    expect(missed.map((c) => c.label)).toEqual([]);
    expect(rate, `false positives: ${falsePositives.map((c) => c.label).join(', ')}`).toBeLessThanOrEqual(MAX_FALSE_POSITIVE_PERCENT);
  });
});
