import { createHash } from 'node:crypto';

/** What Claude Desktop accepts; Cursor also drops tools whose server + tool name exceeds 60 characters. */
export const TOOL_NAME_PATTERN = /^[a-z0-9_]{1,48}$/;
export const MAX_TOOL_NAME = 48;
export const MAX_SERVER_AND_TOOL_NAME = 60;

/** The longest tool name that still fits beside `serverName` in every client. */
export function toolNameBudget(serverName: string): number {
  return Math.max(8, Math.min(MAX_TOOL_NAME, MAX_SERVER_AND_TOOL_NAME - serverName.length));
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * `system.disk.usage` → `system_disk_usage`. Names too long for `budget`, or
 * colliding with one already `taken` (pack `a-b` probe `c` vs pack `a` probe
 * `b_c`), are cut and given a short hash of the full name, so they stay stable
 * across restarts and unique.
 */
export function probeToolName(fullProbeName: string, budget: number, taken: ReadonlySet<string>): string {
  const plain = fullProbeName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (plain.length <= budget && !taken.has(plain) && TOOL_NAME_PATTERN.test(plain)) return plain;
  const suffix = `_${shortHash(fullProbeName)}`;
  const hashed = `${plain.slice(0, budget - suffix.length).replace(/_+$/, '')}${suffix}`;
  return hashed;
}
