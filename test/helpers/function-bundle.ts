import type { BuildOptions } from 'esbuild';

/** esbuild options as serverless.yml's `custom.esbuild` builds the AWS function bundles (their `exclude` as `external`). */
export const FUNCTION_BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*', 'ali-oss', '@alicloud/*'],
  logLevel: 'silent',
} as const satisfies BuildOptions;
