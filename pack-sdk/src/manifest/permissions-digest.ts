import { canonicalJson } from '../protocol/canonical.js';

/**
 * What an operator approves: the canonical permissions object, hashed. Agent
 * and hub compare approvals by this digest, so a reordered but equal
 * permissions object needs no new approval and any real change does.
 */
export function permissionsDigest(permissions: unknown): string {
  // node:crypto is loaded when first asked, not with pack-sdk: a pack process imports pack-sdk and hashes nothing, and
  // loading the module (with the web crypto its ES module facade reads) was ~5 % of its start (issue 26).
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(canonicalJson(permissions)).digest('hex');
}
