import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameTooLargeError, encodeFrame, frameSize } from './framing.js';

describe('pack channel frames', () => {
  it('splits and joins frames across arbitrary chunk boundaries', () => {
    const messages = [{ t: 'a', n: 1 }, { t: 'b', text: 'é'.repeat(1000) }, { t: 'c' }];
    const wire = Buffer.concat(messages.map((message) => encodeFrame(message)));
    for (const step of [1, 3, 7, 4096]) {
      const decoder = new FrameDecoder(1 << 20);
      const out: unknown[] = [];
      for (let at = 0; at < wire.length; at += step) out.push(...decoder.push(wire.subarray(at, at + step)));
      expect(out).toEqual(messages);
    }
    expect(frameSize(messages[1])).toBe(encodeFrame(messages[1]).length);
  });

  it('refuses an oversized frame from its header, before buffering the body', () => {
    const decoder = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1 << 30, 0);
    expect(() => decoder.push(header)).toThrow(FrameTooLargeError);
  });
});
