import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import our packages from source (see the sonde-source export condition).
  resolve: { conditions: ['sonde-source'] },
  ssr: { resolve: { conditions: ['sonde-source'] } },
  test: {
    include: ['**/src/**/*.test.ts', '**/test/**/*.test.ts'],
    // The scaffolder's templates hold tests for packs it generates ({{packName}} placeholders): they run in the generated pack.
    exclude: ['**/node_modules/**', '**/dist/**', 'create-sonde-pack/templates/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
