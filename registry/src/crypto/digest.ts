import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Subresource-integrity style string, as npm and the pack index use it. */
export function sha256Integrity(data: Uint8Array | string): string {
  return `sha256-${createHash('sha256').update(data).digest('base64')}`;
}
