// Types for scripts/test-lanes.mjs (plain JavaScript so that scripts/run-tests.mjs runs it on any Node without a loader).
export declare const PROCESS_LANE: string[];
export declare const LANES: string[];
export declare function laneFilter(
  lane: string | undefined,
  files: { include: string[]; exclude: string[] },
  processLane?: string[],
): { include: string[]; exclude: string[] };
