import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whether the request being served has written an audit entry of its own. A refusal a route audits itself (a policy
 * denial, a refused login, an enrollment with a bad token) must not be audited a second time by the generic refusal
 * hook (`hub/src/auth/refusal-hooks.ts`): every action is audited once.
 */
const requestAudit = new AsyncLocalStorage<{ audited: boolean }>();

/** Runs `fn` (the rest of one request) with a fresh record. */
export function withRequestAudit(fn: () => void): void {
  requestAudit.run({ audited: false }, fn);
}

/** Called by every audit append: marks the request it serves, if any. */
export function markRequestAudited(): void {
  const record = requestAudit.getStore();
  if (record) record.audited = true;
}

/** True when the current request appended an audit entry. */
export function requestAudited(): boolean {
  return requestAudit.getStore()?.audited ?? false;
}
