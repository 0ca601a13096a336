import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Each file gets its own database (cloned from a migrated template), so files run in parallel.
    pool: 'forks',
    // In CI a JSON report as well, from which .ci/run prints a plain 'N passed, N failed' closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/results.json' }]] : ['default'],
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: {
      // Tests only: bcrypt at 4 rounds (real users get 12; never below 10 outside tests).
      ASCEND_BCRYPT_ROUNDS: '4',
      NO_COLOR: '1',
    },
  },
});
