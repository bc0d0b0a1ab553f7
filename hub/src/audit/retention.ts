import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { HubStore, AuditChainRow } from '../store/types.js';
import type { ArchiveWriter, HubAuditLog, PruneResult } from './audit-log.js';
import { GENESIS_HASH, hmacHex, slowRowHash, storedRowHash, type MacKey } from './chain-text.js';

/**
 * Audit retention: entries older than SONDE_AUDIT_RETENTION_DAYS, or beyond the
 * newest SONDE_AUDIT_RETENTION_ROWS, move to archive files and leave the
 * database. The chain stays verifiable on both sides:
 *
 * - in the database, the last pruned entry's seq and hash are recorded as the
 *   chain's base (`audit.base`, HMAC under the audit key, so it cannot be moved
 *   without SONDE_SECRET); `verify` starts from it instead of the genesis hash;
 * - each archive (`audit-<from>-<to>.jsonl` in SONDE_AUDIT_ARCHIVE_DIR) holds its
 *   entries as stored, the hash before its first entry, and a footer with its
 *   last hash and count under an HMAC, so it verifies on its own
 *   (`sonde-hub audit verify-archive FILE…`, which also checks that consecutive
 *   archives link up) and the last archive's last hash is the database's base.
 *
 * Entries are checked link by link while they are written out; a row that does
 * not verify stops the prune with nothing deleted. The archive is complete and
 * fsynced before the rows go, in one transaction with the new base. Entries an
 * export sink has not acknowledged are never pruned, and the newest entry always
 * stays.
 */

export const ARCHIVE_FORMAT = 'sonde-audit-archive/1';
/** Entries per archive file (and per prune transaction). */
export const ARCHIVE_CHUNK = 100_000;

const pad = (seq: number): string => String(seq).padStart(12, '0');
const footerMac = (key: MacKey, f: { fromSeq: number; prevHash: string; toSeq: number; lastHash: string; count: number }): string =>
  hmacHex(key, `audit.archive\n${f.fromSeq}:${f.prevHash}:${f.toSeq}:${f.lastHash}:${f.count}`);

/** Writes one archive file: JSON lines (a header, one row per line as stored, a footer), 0600, fsynced, renamed when done. */
export function archiveFileWriter(dir: string, key: MacKey): ArchiveWriter {
  let handle: FileHandle | undefined;
  let partial = '';
  let fromSeq = 0;
  let prevHash = GENESIS_HASH;
  let buffered: string[] = [];
  let bufferedBytes = 0;
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (buffered.length === 0) return;
    const text = buffered.join('');
    buffered = [];
    bufferedBytes = 0;
    await handle!.write(text);
    bytes += Buffer.byteLength(text);
  };
  const line = async (value: unknown): Promise<void> => {
    const text = `${JSON.stringify(value)}\n`;
    buffered.push(text);
    bufferedBytes += text.length;
    if (bufferedBytes > 1 << 20) await flush();
  };
  return {
    async open(header) {
      fromSeq = header.fromSeq;
      prevHash = header.prevHash;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      partial = path.join(dir, `audit-${pad(fromSeq)}.jsonl.partial`);
      await rm(partial, { force: true });
      handle = await open(partial, 'wx', 0o600);
      await line({ format: ARCHIVE_FORMAT, fromSeq, prevHash });
    },
    row: (row) => line(row),
    async close(footer) {
      await line({ end: true, ...footer, mac: footerMac(key, { fromSeq, prevHash, ...footer }) });
      await flush();
      await handle!.sync();
      await handle!.close();
      handle = undefined;
      const file = path.join(dir, `audit-${pad(fromSeq)}-${pad(footer.toSeq)}.jsonl`);
      await rename(partial, file);
      // The rename itself durable too (the folder's entry).
      const folder = await open(dir, 'r');
      await folder.sync().finally(() => folder.close());
      return { file, bytes };
    },
    async abort() {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      await rm(partial, { force: true }).catch(() => undefined);
    },
  };
}

export interface ArchiveCheck {
  ok: boolean;
  file: string;
  fromSeq: number;
  toSeq: number;
  prevHash: string;
  lastHash: string;
  count: number;
  reason?: string;
}

/** Verifies one archive on its own: every link from its stated previous hash, the footer's count, last hash and MAC. */
export async function verifyArchive(file: string, key: MacKey): Promise<ArchiveCheck> {
  const check: ArchiveCheck = { ok: false, file, fromSeq: 0, toSeq: 0, prevHash: '', lastHash: '', count: 0 };
  const fail = (reason: string): ArchiveCheck => ({ ...check, ok: false, reason });
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header: { format?: string; fromSeq?: number; prevHash?: string } | undefined;
  let footer: { end?: boolean; toSeq?: number; lastHash?: string; count?: number; mac?: string } | undefined;
  let lastSeq = 0;
  let lastHash = '';
  try {
    for await (const text of lines) {
      if (text === '') continue;
      if (footer) return fail('lines after the footer');
      const value = JSON.parse(text) as unknown;
      if (!header) {
        const first = value as { format?: string; fromSeq?: number; prevHash?: string } | null;
        if (first?.format !== ARCHIVE_FORMAT || !Number.isSafeInteger(first.fromSeq) || typeof first.prevHash !== 'string')
          return fail(`not a ${ARCHIVE_FORMAT} file`);
        header = first;
        check.fromSeq = first.fromSeq!;
        check.prevHash = first.prevHash;
        lastSeq = first.fromSeq! - 1;
        lastHash = first.prevHash;
        continue;
      }
      if (!Array.isArray(value)) {
        footer = value as typeof footer;
        continue;
      }
      const row = value as AuditChainRow;
      if (row[0] !== lastSeq + 1) return fail(`entry ${lastSeq + 1} is missing`);
      if (storedRowHash(key, lastHash, row) !== row[15] && slowRowHash(key, lastHash, row) !== row[15])
        return fail(`entry ${row[0]} was modified`);
      lastSeq = row[0];
      lastHash = row[15];
      check.count += 1;
      check.toSeq = lastSeq;
      check.lastHash = lastHash;
    }
  } catch (error) {
    return fail(`unreadable: ${(error as Error).message}`);
  }
  if (!header) return fail('empty file');
  if (!footer?.end) return fail('the footer is missing (the file was cut short)');
  if (footer.toSeq !== lastSeq || footer.count !== check.count || footer.lastHash !== lastHash)
    return fail('the footer does not match the entries (entries removed from the end)');
  const mac = footerMac(key, { fromSeq: check.fromSeq, prevHash: check.prevHash, toSeq: lastSeq, lastHash, count: check.count });
  if (footer.mac !== mac) return fail('the footer MAC does not verify (another key, or the footer was altered)');
  return { ...check, ok: true };
}

export interface RetentionPolicy {
  /** Entries older than this many days go. */
  maxAgeDays?: number;
  /** Only the newest this many entries stay. */
  maxRows?: number;
  archiveDir: string;
}

/** The last seq the policy lets go now (0: nothing), never past `exportedUpTo` nor the newest entry. */
export async function retentionCut(
  store: Pick<HubStore, 'audit'>,
  policy: RetentionPolicy,
  options: { now?: Date; exportedUpTo?: number } = {},
): Promise<number> {
  const newest = (await store.audit.last())?.seq ?? 0;
  let cut = 0;
  if (policy.maxRows !== undefined) cut = Math.max(cut, newest - policy.maxRows);
  if (policy.maxAgeDays !== undefined) {
    const before = new Date((options.now ?? new Date()).getTime() - policy.maxAgeDays * 86_400_000).toISOString();
    const [older] = await store.audit.query({ to: before, order: 'desc', limit: 1 });
    if (older) cut = Math.max(cut, older.seq);
  }
  if (options.exportedUpTo !== undefined) cut = Math.min(cut, options.exportedUpTo);
  return Math.max(0, Math.min(cut, newest - 1));
}

/** Applies `policy` once: archives and prunes in chunks of ARCHIVE_CHUNK entries; returns what each chunk did. */
export async function applyRetention(
  audit: HubAuditLog,
  store: Pick<HubStore, 'audit'>,
  key: MacKey,
  policy: RetentionPolicy,
  options: { now?: Date; exportedUpTo?: number; chunk?: number } = {},
): Promise<PruneResult[]> {
  const cut = await retentionCut(store, policy, options);
  const results: PruneResult[] = [];
  for (;;) {
    const base = await audit.base();
    if (cut <= base.seq) return results;
    const result = await audit.pruneThrough(
      Math.min(cut, base.seq + (options.chunk ?? ARCHIVE_CHUNK)),
      archiveFileWriter(policy.archiveDir, key),
    );
    if (!result) return results;
    results.push(result);
  }
}

export interface RetentionSchedule {
  /** Runs the job now (or joins the run in progress). */
  runNow(): Promise<PruneResult[]>;
  stop(): Promise<void>;
}

/** Runs `job` after `firstMs`, then every `everyMs`; one run at a time; a failure is logged and tried again next time. */
export function scheduleRetention(
  job: () => Promise<PruneResult[]>,
  log: { warn(fields: object, message: string): void; info(fields: object, message: string): void },
  timing: { firstMs: number; everyMs: number } = { firstMs: 60_000, everyMs: 3_600_000 },
): RetentionSchedule {
  let running: Promise<PruneResult[]> | undefined;
  let stopped = false;
  const runNow = (): Promise<PruneResult[]> => {
    running ??= job()
      .then((results) => {
        for (const result of results) log.info({ ...result }, 'audit entries archived and pruned');
        return results;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const tick = (): void => {
    if (stopped) return;
    runNow().catch((error: unknown) => log.warn({ err: error }, 'audit retention failed; nothing was pruned by this run'));
  };
  const first = setTimeout(tick, timing.firstMs);
  const every = setInterval(tick, timing.everyMs);
  first.unref();
  every.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running?.catch(() => undefined);
    },
  };
}
