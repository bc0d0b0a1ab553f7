// Test lanes: the suite split in two halves that run side by side, one vitest process each
// (scripts/run-tests.mjs --lanes). Why two processes and not vitest's maxWorkers: 2 — with two
// workers vitest may pair two end-to-end files, each of which already keeps ~1.5 cores busy
// with its hub, agent, pack, registry and browser processes; a fixed split keeps every
// end-to-end file beside the lighter unit and integration files, never beside another one.
//
// The split, measured on an idle 2-core host (2026-12-07, one worker, 25.3 min): the files
// under the top-level test/ (end-to-end, hostile input, start-local), pack-tool/test and
// create-sonde-pack/test took 619 s of wall time and 862 s of CPU; everything else 675 s
// and 756 s. A file belongs to exactly one lane: the second is "everything the first is not".
//
// vitest.config.ts reads SONDE_TEST_LANE and narrows its include list with laneFilter().

// The first clean-clone run with lanes (2026-12-07 18:27, bundled hub and agent) ended the processes lane at 783 s and
// the rest at 948 s; the three agent files below (82 s of the rest's file time, each starting agent processes by the
// dozen) move to the processes lane to even them out. A clean-clone run of 935a279 (2026-12-07 20:39, other work on
// the host at nice 19) still ended the rest 95 s after the processes lane (1,293 against 1,198 s: the rest's 246
// files also pay 209 s of module import); hub/test/cli.test.ts (36 s, a hub CLI process per test) moves too.

/** Globs (relative to the repository root) of the "processes" lane; the "rest" lane excludes them. */
export const PROCESS_LANE = [
  'test/**/*.test.ts',
  'pack-tool/test/**/*.test.ts',
  'create-sonde-pack/test/**/*.test.ts',
  'agent/test/self-update.test.ts',
  'agent/test/cli.test.ts',
  'agent/test/doctor.test.ts',
  'hub/test/cli.test.ts',
];

/** The lanes, in the order their output is labelled. */
export const LANES = ['processes', 'rest'];

/**
 * The include/exclude lists of `lane` given a config's own: the processes lane keeps only its
 * globs (minus the config's excludes), the rest lane adds them to the excludes. No lane (undefined):
 * the config unchanged. An unknown lane name is an error, so a typo never runs an empty or a whole suite.
 */
export function laneFilter(lane, { include, exclude }, processLane = PROCESS_LANE) {
  if (lane === undefined || lane === '') return { include, exclude };
  if (lane === 'processes') return { include: processLane, exclude };
  if (lane === 'rest') return { include, exclude: [...exclude, ...processLane] };
  throw new Error(`SONDE_TEST_LANE=${lane}: not a lane (expected one of ${LANES.join(', ')})`);
}
