import { defineConfig } from 'vitest/config';
import { WORKSPACE_SOURCES } from './vitest.config.js';

/** `npm run bench:profile`: where a request's time goes (test/bench/profile.spec.ts). Not part of `npm test`. */
export default defineConfig({
  ssr: WORKSPACE_SOURCES,
  test: {
    include: ['test/bench/profile.spec.ts'],
    globalSetup: ['test/build.global-setup.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});
