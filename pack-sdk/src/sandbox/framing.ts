/**
 * Length-prefixed JSON frames over the pack channel (fd 3). Node's own IPC
 * channel buffers a message until its newline with no upper bound, so a
 * hostile pack could grow the agent's memory without limit; here a frame
 * announces its size first and anything over the cap is refused before a
 * byte of its body is kept. No imports beyond Node: the child loads this file
 * from inside its read grant.
 */

const HEADER_BYTES = 4;

/** One buffer, header and body: the text is written once into it (no body buffer, header buffer and a concat per frame). */
export function encodeFrame(message: unknown): Buffer {
  const text = JSON.stringify(message);
  const size = Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame.write(text, HEADER_BYTES, 'utf8');
  return frame;
}

/** Bytes a message takes on the wire, to refuse it before sending. */
export function frameSize(message: unknown): number {
  return HEADER_BYTES + Buffer.byteLength(JSON.stringify(message), 'utf8');
}

export class FrameTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`frame of ${size} bytes exceeds the ${limit}-byte limit`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body size of the frame being received, once its header is in. */
  private expected: number | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** Returns the complete messages in `chunk`; throws FrameTooLargeError or SyntaxError on a bad stream. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: unknown[] = [];
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < HEADER_BYTES) break;
        const size = this.flatten().readUInt32BE(0);
        if (size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
        this.expected = size;
      }
      // Joining chunks only once the frame is complete keeps a large frame linear in its size.
      if (this.buffered < HEADER_BYTES + this.expected) break;
      const all = this.flatten();
      const end = HEADER_BYTES + this.expected;
      messages.push(JSON.parse(all.subarray(HEADER_BYTES, end).toString('utf8')));
      const rest = all.subarray(end);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.expected = undefined;
    }
    return messages;
  }

  private flatten(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }
}
