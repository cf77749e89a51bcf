import { defineConfig } from 'vitest/config';

/** `npm run soak`: one million mixed requests at one gateway (SOAK_REQUESTS for another count). Not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/bench/soak.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 2 * 60 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
