import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end suites start gateways on ephemeral ports; two cores, so keep workers few.
    maxWorkers: 2,
  },
});
