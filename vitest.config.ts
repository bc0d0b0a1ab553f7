import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import our packages from source (see the sonde-source export condition).
  resolve: { conditions: ['sonde-source'] },
  ssr: { resolve: { conditions: ['sonde-source'] } },
  test: {
    include: ['**/src/**/*.test.ts', '**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
