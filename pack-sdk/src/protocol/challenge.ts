import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { RegisterChallenge } from './messages.js';

/** A fresh connection challenge: 32 random bytes, base64url (the form `NonceSchema` accepts). */
export function newConnectionNonce(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The hub URL an agent signs into its registration: scheme, host and port of the socket it dialed
 * (`wss://hub.example:3000`), lower case, default ports omitted as URL does. Paths and queries are left out:
 * a reverse proxy may rewrite them, the name the agent trusted is what matters.
 */
export function challengeHubUrl(socketUrl: string): string {
  const url = new URL(socketUrl);
  return `${url.protocol}//${url.host}`.toLowerCase();
}

/** Whether a registration's challenge carries exactly this connection's nonce (constant time). */
export function challengeNonceMatches(expected: string, challenge: RegisterChallenge | undefined): boolean {
  if (!challenge) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(challenge.nonce, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
