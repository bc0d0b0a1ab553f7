import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClientSessions, resolveClientId } from './client-id.js';

const init = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { clientInfo: { name, version: '1' } } });
const call = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

describe('client id', () => {
  const sessions = new ClientSessions(randomBytes(32));

  it('prefers the X-Sonde-Client header, then clientInfo at initialize, then the session token', () => {
    const token = sessions.issue('k1', 'claude-code');
    expect(resolveClientId({ 'x-sonde-client': 'cursor' }, init('vscode'), sessions, 'k1')).toEqual({
      clientId: 'cursor',
      source: 'header',
    });
    expect(resolveClientId({}, init('vscode'), sessions, 'k1')).toEqual({ clientId: 'vscode', source: 'initialize' });
    expect(resolveClientId({ 'mcp-session-id': token }, call, sessions, 'k1')).toEqual({ clientId: 'claude-code', source: 'session' });
    expect(resolveClientId({}, call, sessions, 'k1')).toEqual({ clientId: undefined, source: 'none' });
  });

  it('ignores tokens that are forged, from another hub secret or for another key', () => {
    const token = sessions.issue('k1', 'claude-code');
    const other = new ClientSessions(randomBytes(32)).issue('k1', 'claude-code');
    const [v, , mac] = token.split('.');
    const forged = `${v}.${Buffer.from(JSON.stringify({ k: 'k1', c: 'cursor' })).toString('base64url')}.${mac}`;
    for (const bad of [other, forged, 'garbage', `${token}x`]) expect(sessions.read(bad, 'k1')).toBeUndefined();
    expect(sessions.read(token, 'k2')).toBeUndefined();
  });
});
