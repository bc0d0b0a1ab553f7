import { normalizeStatement } from '@sonde/pack-sdk';
import { z } from 'zod';

/**
 * Other sessions' statements can carry what they set (`ALTER ROLE … PASSWORD '…'`). By default the probes
 * return them with every literal replaced by `?` (keywords, tables and columns stay, which is what a slow
 * query or a lock needs); `full` is the caller's explicit choice, and the agent's scrubber still runs on it.
 */
export const StatementTextParam = z
  .enum(['normalized', 'full'])
  .default('normalized')
  .describe("Other sessions' statement text: 'normalized' (every literal replaced by ?, the default) or 'full' (as the server shows it).");

export type StatementText = z.infer<typeof StatementTextParam>;

export function statementText(text: string | null, mode: StatementText): string | null {
  return mode === 'full' ? text : normalizeStatement(text, 'postgres');
}
