import { defineConfig } from 'vitest/config';
import { laneFilter } from './scripts/test-lanes.mjs';

// scripts/run-tests.mjs runs the suite as two lanes side by side (scripts/test-lanes.mjs says which files go where);
// SONDE_TEST_LANE names the lane this vitest process runs. Unset: every file.
const files = laneFilter(process.env.SONDE_TEST_LANE, {
  include: ['**/src/**/*.test.ts', '**/test/**/*.test.ts'],
  // The scaffolder's templates hold tests for packs it generates ({{packName}} placeholders): they run in the generated pack.
  exclude: ['**/node_modules/**', '**/dist/**', 'create-sonde-pack/templates/**'],
});

export default defineConfig({
  // Tests import our packages from source (see the sonde-source export condition).
  resolve: { conditions: ['sonde-source'] },
  ssr: { resolve: { conditions: ['sonde-source'] } },
  test: {
    include: files.include,
    exclude: files.exclude,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
