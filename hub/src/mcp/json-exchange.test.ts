import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { readMessages, StatelessMux } from './json-exchange.js';

const call = (id: number | string) => ({
  jsonrpc: '2.0' as const,
  id,
  method: 'tools/call',
  params: { name: 'bench_noop', arguments: {} },
});

/** A server stand-in: answers every request with its method and id, and also sends a notification of its own. */
function connect(mux: StatelessMux): JSONRPCMessage[] {
  const seen: JSONRPCMessage[] = [];
  mux.onmessage = (message) => {
    seen.push(message);
    if ('method' in message && 'id' in message) {
      void mux.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'dropped' } });
      void mux.send({ jsonrpc: '2.0', id: message.id, result: { echo: message.method } });
    }
  };
  return seen;
}

describe('readMessages', () => {
  it('accepts a tools/call and a batch of a request and a notification', () => {
    expect(readMessages(call(1), '2025-06-18')).toEqual({ messages: [call(1)] });
    const batch = [call('a'), { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'a' } }];
    expect(readMessages(batch, undefined)).toEqual({ messages: batch });
  });

  it('answers 400 -32700 for a message that is not JSON-RPC, as the SDK transport does', () => {
    const bad = readMessages({ jsonrpc: '2.0', id: 1, method: 'tools/call', extra: true }, undefined);
    expect(bad).toEqual({
      reply: { status: 400, body: expect.objectContaining({ error: { code: -32700, message: expect.any(String) } }) },
    });
  });

  it('refuses an initialize batched with anything, and only a real initialize counts as one', () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    };
    expect(readMessages([init, call(2)], undefined)).toMatchObject({ reply: { status: 400, body: { error: { code: -32600 } } } });
    // An unknown protocol version is checked for every request but initialize (which negotiates it).
    expect(readMessages(init, '1999-01-01')).toEqual({ messages: [init] });
    expect(readMessages(call(1), '1999-01-01')).toMatchObject({ reply: { status: 400, body: { error: { code: -32000 } } } });
    // Named initialize but not shaped like one: an ordinary request, so the version is checked.
    const notInit = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { clientInfo: 'nope' } };
    expect(readMessages(notInit, '1999-01-01')).toMatchObject({ reply: { status: 400, body: { error: { code: -32000 } } } });
  });
});

describe('StatelessMux', () => {
  it('hands each request to the server under an id of its own and answers with the client id', async () => {
    const mux = new StatelessMux();
    const seen = connect(mux);
    const [a, b] = await Promise.all([mux.exchange([call(1)], {}), mux.exchange([call(1)], {})]);
    expect(a).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 1, result: { echo: 'tools/call' } } });
    expect(b).toEqual(a);
    // Two clients both numbering from 1 reached the server as two distinct requests.
    const ids = seen.map((m) => ('id' in m ? m.id : undefined));
    expect(new Set(ids).size).toBe(2);
  });

  it('answers a batch in order, and 202 for notifications only', async () => {
    const mux = new StatelessMux();
    const seen = connect(mux);
    const note = { jsonrpc: '2.0' as const, method: 'notifications/initialized' };
    expect(await mux.exchange([note], {})).toEqual({ status: 202 });
    const batch = await mux.exchange([call('x'), note, call('y')] as JSONRPCMessage[], {});
    expect(batch).toEqual({
      status: 200,
      body: [
        { jsonrpc: '2.0', id: 'x', result: { echo: 'tools/call' } },
        { jsonrpc: '2.0', id: 'y', result: { echo: 'tools/call' } },
      ],
    });
    expect(seen.filter((m) => !('id' in m))).toHaveLength(2);
  });

  it('passes on a cancellation only for a request of the same POST, renamed to its server id', () => {
    const mux = new StatelessMux();
    const seen: JSONRPCMessage[] = [];
    mux.onmessage = (message) => seen.push(message);
    const cancel = (requestId: string) => ({ jsonrpc: '2.0' as const, method: 'notifications/cancelled', params: { requestId } });
    void mux.exchange([call('mine'), cancel('mine'), cancel('other')] as JSONRPCMessage[], {});
    const request = seen[0] as { id: number };
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual({ ...cancel('mine'), params: { requestId: request.id } });
  });

  it('refuses a response for a request it does not hold', async () => {
    const mux = new StatelessMux();
    await expect(mux.send({ jsonrpc: '2.0', id: 12345, result: {} })).rejects.toThrow(/No connection established/);
    // Server-initiated requests and notifications have no POST to go to: dropped.
    await expect(mux.send({ jsonrpc: '2.0', id: 9, method: 'roots/list' })).resolves.toBeUndefined();
  });
});
