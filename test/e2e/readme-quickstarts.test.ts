import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliRun } from '../helpers/cli-process.js';
import { makeTempDir, READY_LINE, REPO_ROOT, removeDir } from '../helpers/gateway-process.js';
import { type QuickStart, quickStartsOf } from '../helpers/quickstarts.js';
import { freePort, waitFor } from '../helpers/store-files.js';

/*
 * The README's quick starts, run as a reader runs them: in a clone (here a directory of links to
 * this one's files, so what the quick starts write stays out of the repository), the gateway
 * started by the README's own `npm start` block, then every other marked block in order — a file
 * saved under the name the README gives and run with its command, or a shell block pasted into
 * bash. Two things differ from a reader's machine, both so that suites can run side by side:
 * the gateway listens on a free port instead of 8080 (KMS_PORT, and the blocks' `127.0.0.1:8080`
 * becomes that port; the `kms` command gets it as KMS_ENDPOINT), and the environment is the
 * test's own (no AWS profile, no inherited KMS_* or credentials).
 */

const README = join(REPO_ROOT, 'README.md');
let quickStarts: QuickStart[];
let clone: string;
let home: string;
let port: number;
let env: Record<string, string>;
let gateway: ChildProcess | undefined;
let gatewayOutput = '';

/** The top-level entries of the repository a clone has (tracked by git), plus what `npm ci` makes there. */
function cloneEntries(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return [...new Set([...tracked.map((path) => path.split('/')[0]!), 'node_modules', 'dist'])];
}

/** A quick start's code as run here: the README's port 8080 moved to this run's port. */
const onThisPort = (code: string) => code.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);

/** Runs bash in the clone to its end, in a process group of its own that is killed after `timeoutMs`. */
function bash(args: readonly string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let [stdout, stderr] = ['', ''];
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs one quick start that runs to its end; its exit code and output. */
async function runQuickStart(quickStart: QuickStart): Promise<CliRun> {
  const code = onThisPort(quickStart.code);
  if (quickStart.kind === 'file') {
    // 'wx': never write through one of the clone's links into the repository.
    await writeFile(join(clone, quickStart.file!), code, { flag: 'wx' });
    return bash(['-c', quickStart.run!]);
  }
  return bash(['-e', '-o', 'pipefail', '-c', code]);
}

beforeAll(async () => {
  quickStarts = quickStartsOf(await readFile(README, 'utf8'));
  clone = await makeTempDir('kms-readme-');
  home = await makeTempDir('kms-readme-home-');
  for (const entry of cloneEntries()) await symlink(join(REPO_ROOT, entry), join(clone, entry));
  port = await freePort();
  env = {
    PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    KMS_PORT: String(port),
    KMS_ENDPOINT: `http://127.0.0.1:${port}/`,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  };
}, 30_000);

afterAll(async () => {
  if (gateway?.pid !== undefined && gateway.exitCode === null && gateway.signalCode === null) {
    const exited = new Promise((resolve) => gateway!.once('close', resolve));
    // The block's shell, npm and the gateway with its workers are one process group of this test's.
    process.kill(-gateway.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (gateway.exitCode === null && gateway.signalCode === null) process.kill(-gateway.pid, 'SIGKILL');
  }
  if (clone) await removeDir(clone);
  if (home) await removeDir(home);
}, 30_000);

describe("the README's quick starts", () => {
  it('cover an official Alibaba SDK, the AWS SDK for JavaScript v3, the AWS CLI, the kms command and the library, after one block that starts the gateway', () => {
    expect(quickStarts.filter((q) => q.kind === 'serve')).toHaveLength(1);
    expect(quickStarts[0]!.kind).toBe('serve');
    const code = (pattern: RegExp) => quickStarts.filter((q) => pattern.test(q.code));
    expect(code(/@alicloud\/openapi-client/), 'an official Alibaba SDK').not.toHaveLength(0);
    expect(code(/@aws-sdk\/client-kms/), 'the AWS SDK for JavaScript v3').not.toHaveLength(0);
    expect(code(/^aws --endpoint-url/m), 'the AWS CLI').not.toHaveLength(0);
    expect(code(/bin\/kms\.mjs/), 'the kms command').not.toHaveLength(0);
    expect(code(/createKmsClient[\s\S]*openPartitionKeys/), 'the library').not.toHaveLength(0);
    for (const q of quickStarts.filter((q) => q.kind !== 'serve')) expect(q.expect, `${q.heading}: what its output must show`).toBeTruthy();
  });

  it('the first starts the gateway with `npm start`, which becomes ready and makes the admin key the others use', async () => {
    const serve = quickStarts[0]!;
    expect(serve.code).toMatch(/npm start/);
    gateway = spawn('bash', ['-e', '-o', 'pipefail', '-c', onThisPort(serve.code)], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stdout!.setEncoding('utf8').on('data', (chunk: string) => (gatewayOutput += chunk));
    gateway.stderr!.setEncoding('utf8').on('data', (chunk: string) => (gatewayOutput += chunk));
    await waitFor(() => READY_LINE.test(gatewayOutput) || gateway!.exitCode !== null, 60_000, `the gateway's ready line; output so far:\n${gatewayOutput}`);
    expect(READY_LINE.exec(gatewayOutput)?.[1], gatewayOutput).toBe(`http://127.0.0.1:${port}/`);
    expect(gatewayOutput).toContain('created an admin access key');
    expect(JSON.parse(await readFile(join(clone, '.kms-data/admin-credentials.json'), 'utf8'))).toHaveProperty('accessKeySecret');
  }, 90_000);

  it('each of the others runs as written and prints what the README says it does', async () => {
    expect(READY_LINE.test(gatewayOutput), 'the gateway of the first quick start is not running').toBe(true);
    for (const quickStart of quickStarts.slice(1)) {
      const result = await runQuickStart(quickStart);
      const what = `"${quickStart.heading}" (README line ${quickStart.line}) exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
      expect(result.code, what).toBe(0);
      expect(result.stdout, what).toContain(quickStart.expect);
    }
  }, 180_000);
});
