import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Every suite runs the workspace packages from their sources (their exports name them under this
 * condition; see tsconfig.json): one module instance whether a test names the client by its package
 * name or by a path into packages/client/src. The rest is vitest's default list (Vite's for server
 * code without `module`, whose builds node cannot load), which a list given here replaces. The
 * other vitest configs take this too.
 */
export const WORKSPACE_SOURCES: ViteUserConfig['ssr'] = {
  resolve: { conditions: ['@alibaba-kms-compatible/source', 'node', 'development|production'] },
};

export default defineConfig({
  ssr: WORKSPACE_SOURCES,
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
