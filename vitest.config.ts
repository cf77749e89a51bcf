import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end suites run dist/ (npm start, kms, the package exports): rebuilt when stale.
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end suites start gateways on ephemeral ports; two cores, so keep workers few.
    maxWorkers: 2,
  },
});
