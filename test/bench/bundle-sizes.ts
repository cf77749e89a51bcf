import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_SIZES_DOC, BUNDLE_SIZES_SECTION, measurePackagedZips, packageStage, renderBundleSizes } from '../helpers/bundle-sizes.js';
import { writeDocSection } from '../helpers/doc-sections.js';

/**
 * Measures the Lambda bundles as serverless.yml packages them (`npx serverless package --stage
 * dev`, offline) and rewrites the table of their sizes in docs/deploy-aws.md. Not part of
 * `npm test`; test/e2e/serverless.test.ts checks the committed table against its own packaging.
 *
 *     node --import tsx test/bench/bundle-sizes.ts
 */
const dir = await mkdtemp(join(tmpdir(), 'kms-bundle-sizes-'));
try {
  await packageStage('dev', dir);
  const table = renderBundleSizes(await measurePackagedZips(dir));
  await writeDocSection(BUNDLE_SIZES_DOC, BUNDLE_SIZES_SECTION, table);
  console.log(`${table}\n\nwritten to docs/deploy-aws.md`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
