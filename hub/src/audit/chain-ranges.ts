import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { AuditChainSource } from '../store/sqlite/audit.js';

/**
 * Verifying the chain in ranges, side by side. Each row's check needs only its
 * own columns and the stored hash of the row before it, so a range starting at
 * `from` is verified from the stored hash of `from - 1`: the seams are checked
 * like any other link. Worker threads walk the ranges on their own read-only
 * connections and verify() stays synchronous: the main thread blocks on
 * Atomics.wait, as it blocked on the whole walk before.
 */

/** What one range's walk found. Rows the fast text could not confirm are left to the caller's slow check. */
export interface RangeResult {
  from: number;
  to: number;
  /** Rows whose hash matched the SQLite-built text. */
  checked: number;
  /** `[seq, prevHash]` of rows to check the slow way (text built in JS, or from parsed columns). */
  suspects: [number, string][];
  /** Entry `seq` is missing (`next` is the entry found in its place, if any). */
  missing?: { seq: number; next?: number };
  /** Stopped early (too many suspects, or the worker failed): the caller walks `resumeAt..to` the slow way, from `resumePrevHash`. */
  resumeAt?: number;
  resumePrevHash?: string;
  /** The stored hash of the last row walked. */
  lastHash: string;
}

/** How to split a walk: ranges of at least `minRowsPerThread` rows, on at most `maxThreads` threads (the caller's included). */
export interface RangeTuning {
  minRowsPerThread?: number;
  maxThreads?: number;
}

/** Below this many rows per thread a worker costs more (start-up, its own connection) than it saves. */
export const MIN_ROWS_PER_WORKER = 50_000;
/** A log of rows stored the older way is all suspects: past this many, walk the rest the slow way at once. */
const MAX_SUSPECTS = 1_000;
/** A worker that has not answered by then (it should take seconds) has its range walked here instead. */
const WORKER_TIMEOUT_MS = 10 * 60_000;

/**
 * The worker, as plain JavaScript run with `eval`, so it starts the same way
 * from hub/dist and from the TypeScript sources under vitest (a worker file
 * would be .ts there). It checks each row against the text SQLite builds;
 * rows that text cannot confirm go back as suspects for the slow check.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createHmac, createSecretKey } = require('node:crypto');
const { driverModule, file, sql, from, to, maxSuspects, port, flag } = workerData;
// A KeyObject: Node 24 re-imports a raw Buffer key on every createHmac (see MacKey in audit-log.ts).
const key = createSecretKey(Buffer.from(workerData.key));
let prevHash = workerData.prevHash;
let answer;
try {
  const Database = require(driverModule);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = { from, to, checked: 0, suspects: [], lastHash: prevHash };
    let expect = from;
    for (const [seq, hash, text] of db.prepare(sql).raw().iterate(from, to)) {
      if (seq !== expect) {
        result.missing = { seq: expect, next: seq };
        break;
      }
      if (text === null || createHmac('sha256', key).update(prevHash + '\\n' + text).digest('hex') !== hash) {
        if (result.suspects.length === maxSuspects) {
          result.resumeAt = seq;
          result.resumePrevHash = prevHash;
          break;
        }
        result.suspects.push([seq, prevHash]);
      } else {
        result.checked += 1;
      }
      prevHash = hash;
      result.lastHash = hash;
      expect += 1;
    }
    if (!result.missing && result.resumeAt === undefined && expect <= to) result.missing = { seq: expect };
    answer = { result };
  } finally {
    db.close();
  }
} catch (error) {
  answer = { error: String((error && error.stack) || error) };
}
port.postMessage(answer);
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
`;

interface RunningWorker {
  from: number;
  to: number;
  prevHash: string;
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
}

function startWorker(source: AuditChainSource, file: string, key: Buffer, from: number, to: number, prevHash: string): RunningWorker {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverModule: source.driverModule(),
      file,
      sql: source.textSql,
      key,
      from,
      to,
      prevHash,
      maxSuspects: MAX_SUSPECTS,
      port: port2,
      flag,
    },
    transferList: [port2],
  });
  worker.unref();
  return { from, to, prevHash, worker, port: port1, flag };
}

/** The worker's answer; if it failed or never answered, the whole range is left to the slow walk. */
function finish(running: RunningWorker): RangeResult {
  const { from, to, prevHash, worker, port, flag } = running;
  Atomics.wait(flag, 0, 0, WORKER_TIMEOUT_MS);
  const message = receiveMessageOnPort(port)?.message as { result?: RangeResult; error?: string } | undefined;
  port.close();
  void worker.terminate();
  return message?.result ?? { from, to, checked: 0, suspects: [], resumeAt: from, resumePrevHash: prevHash, lastHash: prevHash };
}

/** How many threads to use for `rows` rows: none with fewer than `minRowsPerThread` each, by default at most the cores (and 4). */
export function threadsFor(rows: number, tuning: RangeTuning = {}): number {
  const maxThreads = tuning.maxThreads ?? Math.min(availableParallelism(), 4);
  return Math.max(1, Math.min(maxThreads, Math.floor(rows / (tuning.minRowsPerThread ?? MIN_ROWS_PER_WORKER))));
}

/**
 * Walks `from..to` (which must exist) in ranges on worker threads, in order,
 * while this thread waits; undefined when there are too few rows for a worker
 * to pay off (or no file another connection can open): the caller walks them.
 * `prevHash` is the stored hash of entry `from - 1` (the genesis hash for 1).
 */
export function walkRanges(
  source: AuditChainSource,
  key: Buffer,
  from: number,
  to: number,
  prevHash: string,
  tuning: RangeTuning = {},
): RangeResult[] | undefined {
  const rows = to - from + 1;
  if (source.file === undefined || rows < (tuning.minRowsPerThread ?? MIN_ROWS_PER_WORKER)) return undefined;
  const size = Math.ceil(rows / threadsFor(rows, tuning));
  const workers: RunningWorker[] = [];
  try {
    for (let start = from; start <= to; start += size) {
      // A missing link leaves '' here: that range's first row fails, and the range before reports the gap first.
      const link = start === from ? prevHash : (source.hashAt(start - 1) ?? '');
      workers.push(startWorker(source, source.file, key, start, Math.min(to, start + size - 1), link));
    }
  } catch {
    // No worker threads here (a restricted runtime): the caller walks everything.
    for (const running of workers) void running.worker.terminate();
    return undefined;
  }
  return workers.map(finish);
}
