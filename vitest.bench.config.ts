import { defineConfig } from 'vitest/config';

/** Benchmarks that assert (1 GiB file round trip): `npm run bench:big-file`. Not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/bench/big-file.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
