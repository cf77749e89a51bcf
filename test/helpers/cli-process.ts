import { spawn } from 'node:child_process';
import type { Credentials } from './sign.js';
import { REPO_ROOT } from './gateway-process.js';

/** What a `kms` run left: its exit code and its output. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** KMS_ENDPOINT. */
  endpoint: string;
  /** Credentials in ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET; null for none. */
  credentials: Credentials | null;
  /** More environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
  stdin?: Buffer;
  cwd?: string;
}

/**
 * Runs `node bin/kms.mjs …args` as a user does, in a clean environment (no inherited ALIBABA_* or
 * KMS_*), and returns its exit code and output.
 */
export function runKms(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('KMS_') && !name.startsWith('ALIBABA_CLOUD_')) env[name] = value;
  }
  env.KMS_ENDPOINT = options.endpoint;
  if (options.credentials) {
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = options.credentials.accessKeyId;
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = options.credentials.accessKeySecret;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return runProcess(process.execPath, [`${REPO_ROOT}bin/kms.mjs`, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    ...(options.stdin ? { stdin: options.stdin } : {}),
  });
}

/** Runs a program to its end and returns its exit code and output (stdin: what it reads, else nothing). */
export function runProcess(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string>; stdin?: Buffer }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin);
  });
}
