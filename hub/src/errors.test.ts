import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HubErrors } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors/hub.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(SONDE_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => `${m[1]}:${m[2]}`));

describe('hub error codes', () => {
  it('every code is documented in docs/errors/hub.md with its status', () => {
    const missing = Object.entries(HubErrors)
      .map(([code, { status }]) => `${code}:${status}`)
      .filter((entry) => !documented.has(entry));
    expect(missing).toEqual([]);
  });

  it('the documentation lists no code the hub does not have', () => {
    const extra = [...documented].filter((entry) => !(entry.split(':')[0] in HubErrors));
    expect(extra).toEqual([]);
  });
});
