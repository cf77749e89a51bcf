import { defineConfig } from 'vitest/config';
import { WORKSPACE_SOURCES } from './vitest.config.js';

/**
 * `npm run fuzz`: the parameter fuzzing of every Action (both protocols) and the raw-HTTP fuzzing of the gateway,
 * at FUZZ_SCALE times the cases `npm test` runs (the script sets 8: over 100,000 cases). Not part
 * of `npm test`.
 */
export default defineConfig({
  ssr: WORKSPACE_SOURCES,
  test: {
    include: ['test/contract/fuzz-parameters.test.ts', 'test/contract/aws-fuzz.test.ts', 'test/e2e/fuzz-http.test.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
