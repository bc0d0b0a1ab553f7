import { describe, expect, it } from 'vitest';
import { parseSse } from './event-stream.js';

describe('parseSse', () => {
  it('splits complete messages, skips comments and keeps the unfinished tail', () => {
    const { messages, rest } = parseSse(': keep-alive\n\nretry: 2000\n\nid: a.1\nevent: agent\ndata: {"x":1}\n\nid: a.2\nevent: au');
    expect(messages).toEqual([{ id: 'a.1', event: 'agent', data: '{"x":1}' }]);
    expect(rest).toBe('id: a.2\nevent: au');
    expect(parseSse(`${rest}dit\ndata: {}\n\n`).messages).toEqual([{ id: 'a.2', event: 'audit', data: '{}' }]);
  });

  it('joins multi-line data and accepts CRLF line ends and fields without a space', () => {
    const { messages } = parseSse('event:snapshot\r\ndata: [1,\r\ndata:2]\r\n\r\n');
    expect(messages).toEqual([{ id: undefined, event: 'snapshot', data: '[1,\n2]' }]);
  });
});
