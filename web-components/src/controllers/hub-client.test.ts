import { describe, expect, it } from 'vitest';
import { embedPath, HubClient } from './hub-client.js';

describe('HubClient', () => {
  it('sends the reads of an embed token to the embed routes, and nothing else', () => {
    expect(embedPath('/api/v1/agents')).toBe('/api/v1/embed/agents');
    expect(embedPath('/api/v1/agents/web-1')).toBe('/api/v1/embed/agents/web-1');
    expect(embedPath('/api/v1/events')).toBe('/api/v1/embed/events');
    expect(embedPath('/api/v1/agents-x')).toBe('/api/v1/agents-x');
    expect(embedPath('/api/v1/api-keys')).toBe('/api/v1/api-keys');
    // The trends and an agent's recent calls read probe calls only; the audit log itself stays closed.
    expect(embedPath('/api/v1/audit?limit=10&agent=web-1')).toBe('/api/v1/embed/probe-calls?limit=10&agent=web-1');
    expect(embedPath('/api/v1/audit/verify')).toBe('/api/v1/audit/verify');
    expect(new HubClient({ token: 'sonde_embed_x.y' }).embedded).toBe(true);
    expect(new HubClient({ token: 'sonde_abc' }).embedded).toBe(false);
  });

  it('stays the same client (and stream) while hub, token and fetchToken are unchanged', () => {
    const fetchToken = () => Promise.resolve('sonde_embed_x');
    const client = new HubClient({ hub: 'https://hub/', token: 't', fetchToken });
    expect(client.sameAs({ hub: 'https://hub', token: 't', fetchToken })).toBe(true);
    expect(client.sameAs({ hub: 'https://hub', token: 't', fetchToken: () => Promise.resolve('') })).toBe(false);
    expect(client.sameAs({ hub: 'https://hub', token: 'u', fetchToken })).toBe(false);
  });
});
