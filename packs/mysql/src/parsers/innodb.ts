import { z } from 'zod';
import type { BatchResult } from './batch.js';

export const InnodbResultSchema = z.object({
  generatedAt: z.string().nullable(),
  historyListLength: z.number().nullable().describe('Undo records not yet purged; a steady rise means a long-open transaction.'),
  activeTransactions: z.number().int().nonnegative().describe('Transactions listed as ACTIVE.'),
  lockWaits: z.number().int().nonnegative().describe('Transactions waiting for a lock (LOCK WAIT).'),
  latestDeadlock: z.object({ at: z.string().nullable(), text: z.string() }).nullable().describe('The last deadlock InnoDB saw, if any.'),
  bufferPool: z.object({
    sizePages: z.number().nullable(),
    freePages: z.number().nullable(),
    databasePages: z.number().nullable(),
    modifiedPages: z.number().nullable(),
    hitRate: z.number().nullable().describe('From "Buffer pool hit rate N / 1000"; null when there were no page gets.'),
  }),
  log: z.object({
    sequenceNumber: z.number().nullable(),
    lastCheckpoint: z.number().nullable(),
    checkpointAgeBytes: z.number().nullable(),
  }),
  rowsPerSecond: z.object({ inserted: z.number(), updated: z.number(), deleted: z.number(), read: z.number() }).nullable(),
  pendingReads: z.number().nullable(),
  sections: z.array(z.string()).describe('Section titles present in the report.'),
});
export type InnodbResult = z.infer<typeof InnodbResultSchema>;

function num(text: string, pattern: RegExp): number | null {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : null;
}

/** Splits the monitor text on its `-----\nTITLE\n-----` headers. */
export function innodbSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  const header = /(?<=^|\n)-{3,}\n([A-Z][A-Z /&]+)\n-{3,}\n/g;
  const found = [...text.matchAll(header)];
  found.forEach((match, i) => {
    const start = match.index + match[0].length;
    const end = i + 1 < found.length ? found[i + 1].index : text.length;
    sections.set(match[1].trim(), text.slice(start, end));
  });
  return sections;
}

export function parseInnodbStatus(result: BatchResult): InnodbResult {
  const text = result.rows[0]?.Status ?? '';
  const sections = innodbSections(text);
  const trx = sections.get('TRANSACTIONS') ?? '';
  const pool = sections.get('BUFFER POOL AND MEMORY') ?? '';
  const log = sections.get('LOG') ?? '';
  const rows = sections.get('ROW OPERATIONS') ?? '';
  const deadlock = sections.get('LATEST DETECTED DEADLOCK');
  const hits = /Buffer pool hit rate (\d+) \/ (\d+)/.exec(pool);
  const lsn = num(log, /Log sequence number\s+(\d+)/);
  const checkpoint = num(log, /Last checkpoint at\s+(\d+)/);
  const rowRates = /([\d.]+) inserts\/s, ([\d.]+) updates\/s, ([\d.]+) deletes\/s, ([\d.]+) reads\/s/.exec(rows);
  return {
    generatedAt: /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) [0-9a-fx]+ INNODB MONITOR OUTPUT/.exec(text)?.[1] ?? null,
    historyListLength: num(trx, /History list length (\d+)/),
    activeTransactions: (trx.match(/---TRANSACTION [^\n]*, ACTIVE/g) ?? []).length,
    lockWaits: (trx.match(/LOCK WAIT/g) ?? []).length,
    latestDeadlock: deadlock
      ? { at: /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(deadlock)?.[1] ?? null, text: deadlock.slice(0, 2000) }
      : null,
    bufferPool: {
      sizePages: num(pool, /Buffer pool size\s+(\d+)/),
      freePages: num(pool, /Free buffers\s+(\d+)/),
      databasePages: num(pool, /Database pages\s+(\d+)/),
      modifiedPages: num(pool, /Modified db pages\s+(\d+)/),
      hitRate: hits ? Number(hits[1]) / Number(hits[2]) : null,
    },
    log: {
      sequenceNumber: lsn,
      lastCheckpoint: checkpoint,
      checkpointAgeBytes: lsn !== null && checkpoint !== null ? lsn - checkpoint : null,
    },
    rowsPerSecond: rowRates
      ? { inserted: Number(rowRates[1]), updated: Number(rowRates[2]), deleted: Number(rowRates[3]), read: Number(rowRates[4]) }
      : null,
    pendingReads: num(pool, /Pending reads\s+(\d+)/),
    sections: [...sections.keys()],
  };
}
