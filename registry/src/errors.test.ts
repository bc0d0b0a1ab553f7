import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryErrors } from './errors.js';

describe('error codes', () => {
  it('every code is documented in README.md', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const missing = Object.keys(RegistryErrors).filter((code) => !readme.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
