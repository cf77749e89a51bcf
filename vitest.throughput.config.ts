import { defineConfig } from 'vitest/config';
import { WORKSPACE_SOURCES } from './vitest.config.js';

/** `npm run bench`: throughput, latency, cold start and memory against baselines (test/bench/throughput.spec.ts). Not part of `npm test`. */
export default defineConfig({
  ssr: WORKSPACE_SOURCES,
  test: {
    include: ['test/bench/throughput.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    // One file, tests in order: the figures go into one table.
    sequence: { concurrent: false },
  },
});
