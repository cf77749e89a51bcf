import { defineConfig } from 'vitest/config';
import { WORKSPACE_SOURCES } from './vitest.config.js';

/** Benchmarks that assert (1 GiB file round trip): `npm run bench:big-file`. Not part of `npm test`. */
export default defineConfig({
  ssr: WORKSPACE_SOURCES,
  test: {
    include: ['test/bench/big-file.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
