import { createHash } from 'node:crypto';
import { canonicalJson } from '../protocol/canonical.js';

/**
 * What an operator approves: the canonical permissions object, hashed. Agent
 * and hub compare approvals by this digest, so a reordered but equal
 * permissions object needs no new approval and any real change does.
 */
export function permissionsDigest(permissions: unknown): string {
  return createHash('sha256').update(canonicalJson(permissions)).digest('hex');
}
