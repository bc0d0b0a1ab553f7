import { appendFileSync } from 'node:fs';

/**
 * What a hostile suite tells scripts/soak.mjs: one JSON line per suite and run, appended to the file named by
 * SONDE_FUZZ_REPORT (unset in CI: nothing is written). The soak adds them up over its rounds (frames and requests
 * tried, crashes, audit entries lost, memory before and after, the slowest /health), so its figures come from what
 * the suites measured, not from parsing their console output.
 */
export interface SoakFigures {
  suite: string;
  seed: number;
  /** Frames or requests actually sent (fewer than asked when the soak's deadline cut the run short). */
  frames?: number;
  requests?: number;
  /** Processes under test that died (goal 0). */
  crashes: number;
  /** Audit entries committed but missing from the chain or the export (goal 0); absent where the suite does not count them. */
  auditLost?: number;
  memoryBeforeBytes?: number;
  memoryAfterBytes?: number;
  /** What the memory figures measure (live heap after a full GC, an agent's RSS…). */
  memory?: string;
  healthMaxMs?: number;
  [extra: string]: unknown;
}

export function reportToSoak(figures: SoakFigures): void {
  const file = process.env.SONDE_FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
}

/**
 * When a soak run stops sending: at the soak's end (epoch ms, SONDE_FUZZ_DEADLINE) or once this suite has sent for
 * its share of a round (SONDE_FUZZ_BUDGET_MS), whichever comes first; then it still checks everything. So an hour's
 * soak ends within its hour, and each suite of a round gets its time instead of the first one taking all of it.
 * Neither set (CI): never, the counts decide. Call when the sending starts; the result says whether to stop.
 */
export function soakClock(): () => boolean {
  const started = Date.now();
  const deadline = Number(process.env.SONDE_FUZZ_DEADLINE ?? Infinity);
  const budget = Number(process.env.SONDE_FUZZ_BUDGET_MS ?? Infinity);
  return () => {
    const now = Date.now();
    return now >= deadline || now - started >= budget;
  };
}
