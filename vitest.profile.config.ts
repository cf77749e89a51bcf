import { defineConfig } from 'vitest/config';

/** `npm run bench:profile`: where a request's time goes (test/bench/profile.spec.ts). Not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/bench/profile.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});
