import { describe, expect, it } from 'vitest';
import { createScrubber } from '@sonde/pack-sdk/scrubber';
import { CLEAN_DOCS, SECRET_DOCS } from './scrubber-real-world.js';

const scrubber = createScrubber();

/** A document as a probe returns it: JSON documents are parsed, so the walk sees objects and arrays. */
function scrubbed(text: string): string {
  let input: unknown = text;
  try {
    input = JSON.parse(text);
  } catch {
    // Plain text.
  }
  const { value } = scrubber.scrub(input);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

describe('scrubber on real-world formats', () => {
  it.each(SECRET_DOCS.map((doc) => [doc.label, doc] as const))('redacts every secret of %s and keeps its context', (_label, doc) => {
    const out = scrubbed(doc.text);
    for (const secret of doc.secrets) expect(out, `${secret} left in:\n${out}`).not.toContain(secret);
    for (const kept of doc.keep ?? []) expect(out, `${kept} lost from:\n${out}`).toContain(kept);
  });

  it.each(CLEAN_DOCS.map((doc) => [doc.label, doc] as const))('leaves clean %s unchanged', (_label, doc) => {
    const input = (() => {
      try {
        return JSON.parse(doc.text) as unknown;
      } catch {
        return doc.text;
      }
    })();
    expect(scrubbed(doc.text)).toBe(typeof input === 'string' ? doc.text : JSON.stringify(input));
  });

  it('recall is 100 % and the false-positive rate is 0 % on the clean documents', () => {
    const secrets = SECRET_DOCS.flatMap((doc) => doc.secrets.map((secret) => ({ doc, secret })));
    const missed = secrets.filter(({ doc, secret }) => scrubbed(doc.text).includes(secret));
    const lines = CLEAN_DOCS.flatMap((doc) => doc.text.split(/\r?\n/));
    const changedLines = lines.filter((line) => scrubbed(line) !== line && !line.startsWith('[') && !line.startsWith('{'));
    console.log(
      `real-world corpus: recall ${secrets.length - missed.length}/${secrets.length} secrets in ${SECRET_DOCS.length} documents; ` +
        `false positives ${changedLines.length}/${lines.length} clean lines`,
    );
    expect(missed.map(({ doc, secret }) => `${doc.label}: ${secret}`)).toEqual([]);
    expect(changedLines).toEqual([]);
  });
});
