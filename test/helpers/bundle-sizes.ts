import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './gateway-process.js';
import { paramArgs, testParams } from './serverless-params.js';

/**
 * The table of function bundle sizes in docs/deploy-aws.md: what `npx serverless package --stage
 * dev` zips for each Lambda function. `node --import tsx test/bench/bundle-sizes.ts` measures and
 * writes it; test/e2e/serverless.test.ts, which packages the real serverless.yml anyway, checks
 * the committed table against the zips it made.
 */
export const BUNDLE_SIZES_DOC = join(REPO_ROOT, 'docs/deploy-aws.md');
export const BUNDLE_SIZES_SECTION = 'bundle-sizes';
export const BUNDLE_SIZES_COMMAND = 'node --import tsx test/bench/bundle-sizes.ts';

/**
 * How far a committed size may be from a fresh one. Every source change moves the zips by some
 * bytes, so an exact match would fail on each; the table tells a reader a function's size, and
 * a change of a tenth is one they should see.
 */
export const BUNDLE_SIZE_TOLERANCE = 0.1;

export interface BundleSize {
  functionName: string;
  bytes: number;
}

const run = promisify(execFile);

/** `npx serverless package --stage <stage>` into `dir`, offline and with no AWS credentials, with the test parameters (or `params`). */
export async function packageStage(stage: string, dir: string, params: Record<string, string> = testParams(stage)): Promise<void> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'kms-no-such-profile', AWS_SDK_LOAD_CONFIG: '0' };
  await run('npx', ['serverless', 'package', '--stage', stage, '--package', dir, ...paramArgs(params)], { cwd: REPO_ROOT, env, timeout: 240_000 });
}

/** The size of every function's zip in a `serverless package` output directory. */
export async function measurePackagedZips(dir: string): Promise<BundleSize[]> {
  const zips = (await readdir(dir)).filter((f) => f.endsWith('.zip'));
  return Promise.all(zips.map(async (zip) => ({ functionName: basename(zip, '.zip'), bytes: (await stat(join(dir, zip))).size })));
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const ROW = /^\| `([A-Za-z0-9]+)` \| ([\d.]+) KiB \|$/;

/** The table's body: a summary line, then one row per function, smallest first. */
export function renderBundleSizes(sizes: readonly BundleSize[]): string {
  if (sizes.length === 0) throw new Error('no function zips to list');
  const sorted = [...sizes].sort((a, b) => a.bytes - b.bytes || a.functionName.localeCompare(b.functionName));
  return [
    `${sorted.length} functions, ${kib(sorted[0]!.bytes)}–${kib(sorted.at(-1)!.bytes)} KiB zipped (\`npx serverless package --stage dev\`; \`${BUNDLE_SIZES_COMMAND}\` rewrites this table):`,
    '',
    '| function | zip |',
    '| --- | --- |',
    ...sorted.map((s) => `| \`${s.functionName}\` | ${kib(s.bytes)} KiB |`),
  ].join('\n');
}

/** The rows of a committed table (sizes to the 0.1 KiB it shows). */
export function parseBundleSizes(body: string): BundleSize[] {
  return body
    .split('\n')
    .map((line) => ROW.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ functionName: m[1]!, bytes: Math.round(Number(m[2]) * 1024) }));
}

/** What is wrong with a committed table against a fresh measurement; empty when it holds. */
export function compareBundleSizes(committed: readonly BundleSize[], measured: readonly BundleSize[], tolerance = BUNDLE_SIZE_TOLERANCE): string[] {
  const problems: string[] = [];
  const listed = new Map(committed.map((s) => [s.functionName, s.bytes]));
  for (const { functionName, bytes } of measured) {
    const shown = listed.get(functionName);
    if (shown === undefined) problems.push(`${functionName}: packaged (${kib(bytes)} KiB) but not in the table`);
    else if (Math.abs(shown - bytes) > tolerance * bytes) problems.push(`${functionName}: the table says ${kib(shown)} KiB, the zip is ${kib(bytes)} KiB`);
    listed.delete(functionName);
  }
  for (const functionName of listed.keys()) problems.push(`${functionName}: in the table but not packaged`);
  if (committed.length !== new Set(committed.map((s) => s.functionName)).size) problems.push('the table lists a function twice');
  return problems;
}
