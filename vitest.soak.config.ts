import { defineConfig } from 'vitest/config';
import { WORKSPACE_SOURCES } from './vitest.config.js';

/** `npm run soak`: one million mixed requests at one gateway (SOAK_REQUESTS for another count). Not part of `npm test`. */
export default defineConfig({
  ssr: WORKSPACE_SOURCES,
  test: {
    include: ['test/bench/soak.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 2 * 60 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
