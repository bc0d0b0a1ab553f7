import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SondeErrorCodes } from '@sonde/pack-sdk';

const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/errors/pack-sdk.md'), 'utf8');

describe('docs/errors/pack-sdk.md', () => {
  it.each(Object.keys(SondeErrorCodes))('documents %s with a meaning and a next step', (code) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `${code} is missing from docs/errors/pack-sdk.md`).toBeDefined();
    const cells = row!.split('|').map((cell) => cell.trim());
    expect(cells[2].length).toBeGreaterThan(10);
    expect(cells[3].length).toBeGreaterThan(10);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `(SONDE_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((code) => !(code in SondeErrorCodes))).toEqual([]);
  });
});
