import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HubErrors } from './errors.js';
import { GatewayErrorCodes } from './gateway/codes.js';
import { McpErrorCodes } from './mcp/errors.js';

const doc = readFileSync(new URL('../../docs/errors/hub.md', import.meta.url), 'utf8');
/** Rows of the section that starts with `heading`. */
function sectionCodes(heading: string): Set<string> {
  const start = doc.indexOf(heading);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/^\| `(SONDE_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]));
}

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

  it.each([
    ['## Agent gateway', GatewayErrorCodes],
    ['## MCP tool errors', McpErrorCodes],
  ] as const)('%s codes are all documented', (heading, codes) => {
    expect(Object.keys(codes).filter((code) => !sectionCodes(heading).has(code))).toEqual([]);
  });
});
