import { describe, expect, it } from 'vitest';
import { cimdUrlAllowed, clientAllowed, redirectUriAllowed } from './clients.js';
import { canonicalResource, unverifiableRedirect } from './provider.js';

describe('client-domain allow-list', () => {
  const domains = ['claude.ai', '*.example.com', 'localhost', 'cursor:'];
  it.each([
    ['https://claude.ai/api/mcp/auth_callback', true],
    ['https://app.example.com/cb', true],
    ['https://a.b.example.com/cb', true],
    ['http://127.0.0.1:33418/', true],
    ['http://localhost/cb', true],
    ['http://[::1]:9/cb', true],
    ['cursor://anysphere.cursor-retrieval/cb', true],
    ['https://example.com/cb', false],
    ['https://claude.ai.evil.com/cb', false],
    ['https://evilclaude.ai/cb', false],
    ['https://xexample.com/cb', false],
    ['vscode://cb', false],
    ['not a url', false],
  ])('%s → %s', (uri, allowed) => expect(redirectUriAllowed(uri, domains)).toBe(allowed));

  it('allows everything when empty; a client needs every redirect URI allowed', () => {
    expect(redirectUriAllowed('https://anything.example/cb', [])).toBe(true);
    expect(clientAllowed({ redirect_uris: ['https://claude.ai/cb', 'https://evil.com/cb'] }, domains)).toBe(false);
    expect(cimdUrlAllowed('https://claude.ai/oauth/client.json', domains)).toBe(true);
    expect(cimdUrlAllowed('https://evil.com/oauth/client.json', domains)).toBe(false);
  });
});

describe('canonicalResource', () => {
  const mcp = 'https://hub.example/mcp';
  it.each([
    [mcp, mcp],
    [`${mcp}/`, mcp],
    [`${mcp}/packs/system`, mcp],
    [`${mcp}/packs/system/`, mcp],
    ['https://hub.example', undefined],
    ['https://hub.example/mcpx', undefined],
    [`${mcp}/packs/../admin`, undefined],
    [`${mcp}/packs/a/b`, undefined],
    ['https://other.example/mcp', undefined],
  ])('%s → %s', (indicator, expected) => expect(canonicalResource(indicator, mcp)).toBe(expected));
});

describe('unverifiableRedirect (consent asked every time)', () => {
  it.each([
    ['http://127.0.0.1:5000/cb', true],
    ['https://localhost/cb', true],
    ['cursor://x/cb', true],
    ['https://claude.ai/cb', false],
  ])('%s → %s', (uri, expected) => expect(unverifiableRedirect(uri)).toBe(expected));
});
