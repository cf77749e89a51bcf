import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in it (test/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The gateway's one ready line. */
export const READY_LINE = /^kms gateway ready at (https?:\/\/(\S+):(\d+)\/)$/m;

export interface GatewayOptions {
  /** KMS_DATA_DIR. */
  dataDir: string;
  /** KMS_SEED_FILE, when given. */
  seedFile?: string;
  /** KMS_LOG_LEVEL, when given. */
  logLevel?: string;
  /** KMS_HOST, when given. */
  host?: string;
  /** KMS_PORT; '0' (ephemeral) unless given. */
  port?: string;
  /** More environment variables (win over the above). */
  env?: Record<string, string>;
  /** How long to wait for the ready line (or the exit). */
  timeoutMs?: number;
  /** Run it through `npm start` itself (npm and its shell between the test and the gateway). */
  viaNpm?: boolean;
  /** Run it as `kms serve` (bin/kms.mjs), configured by the same environment. */
  viaCli?: boolean;
  /** In a process group of its own (the gateway and its workers), which `process.kill(-pid, signal)` signals as a whole. */
  detached?: boolean;
  /** Options for node itself, before the script (not with viaNpm), e.g. `--cpu-prof`, which NODE_OPTIONS may not carry. */
  nodeOptions?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A gateway child process: the real gateway (`dist/infra/gateway/start.js`), run as `npm start` runs it. */
export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /**
   * Sends `signal` (SIGTERM by default) and resolves with the exit code (null when the process was
   * ended by a signal). Escalates to SIGKILL after `timeoutMs` and then rejects.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface ReadyGateway extends GatewayProcess {
  /** `http://host:port/`, as the ready line printed it. */
  url: string;
  host: string;
  port: number;
}

const running = new Set<GatewayProcess>();

/** Output kept per stream: its first MiB (the start-up lines) and its last 8 MiB (a soak writes gigabytes of audit lines). */
const OUTPUT_HEAD = 1 << 20;
const OUTPUT_TAIL = 8 << 20;
function bounded(text: string): string {
  if (text.length <= OUTPUT_HEAD + OUTPUT_TAIL + (1 << 20)) return text;
  return `${text.slice(0, OUTPUT_HEAD)}\n[… output dropped …]\n${text.slice(-OUTPUT_TAIL)}`;
}

/** Starts the gateway and returns at once (see {@link startGateway} and {@link runGatewayToExit}). */
export function spawnGateway(options: GatewayOptions): GatewayProcess {
  const env: Record<string, string> = {};
  // The parent's own KMS_* variables must not leak into the gateway under test.
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('KMS_')) env[name] = value;
  env.KMS_DATA_DIR = options.dataDir;
  env.KMS_PORT = options.port ?? '0';
  if (options.seedFile !== undefined) env.KMS_SEED_FILE = options.seedFile;
  if (options.logLevel !== undefined) env.KMS_LOG_LEVEL = options.logLevel;
  if (options.host !== undefined) env.KMS_HOST = options.host;
  // One process unless a test asks for workers (test/e2e/gateway-workers.test.ts does; the product default is one per core).
  env.KMS_WORKERS = '1';
  Object.assign(env, options.env);

  // `npm start` runs the compiled gateway with plain node (test/build.global-setup.ts builds it).
  // Under `npm test`, npm_execpath is the npm that runs the tests.
  const npm = process.env.npm_execpath;
  const script = options.viaCli ? ['bin/kms.mjs', 'serve'] : ['dist/infra/gateway/start.js'];
  const command = options.viaNpm ? (npm ? [process.execPath, npm, 'start'] : ['npm', 'start']) : [process.execPath, ...(options.nodeOptions ?? []), ...script];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = bounded(stdout + chunk);
    output = bounded(output + chunk);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = bounded(stderr + chunk);
    output = bounded(output + chunk);
  });
  let exitedFlag = false;
  const exited = new Promise<Exit>((resolve) => {
    // 'close' comes after both pipes have ended, so the output is complete by then.
    child.once('close', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
    });
  });

  const handle: GatewayProcess = {
    child,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    exited,
    hasExited: () => exitedFlag,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!exitedFlag) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`gateway ${child.pid} did not exit within ${timeoutMs} ms of ${signal}; output:\n${output}`);
      }
      return result.code;
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** Starts the gateway and waits for its ready line. Rejects (with the output) when it exits first. */
export function startGateway(options: GatewayOptions): Promise<ReadyGateway> {
  return untilReady(spawnGateway(options), options.timeoutMs);
}

/** Waits for a spawned gateway's ready line. Rejects (with the output) when it exits first, or after `timeoutMs` (then it is killed). */
export async function untilReady(gateway: GatewayProcess, timeoutMs = 30_000): Promise<ReadyGateway> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = READY_LINE.exec(gateway.stdout());
    if (match) return { ...gateway, url: match[1]!, host: match[2]!, port: Number(match[3]) };
    if (gateway.hasExited()) {
      const exit = await gateway.exited;
      throw new Error(`gateway exited (code ${exit.code}, signal ${exit.signal}) before it was ready; output:\n${gateway.output()}`);
    }
    if (Date.now() > deadline) {
      await gateway.stop('SIGKILL').catch(() => undefined);
      throw new Error(`gateway was not ready within ${timeoutMs} ms; output:\n${gateway.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a gateway that is expected to refuse to start, and waits for it to exit. If it becomes
 * ready instead, it is stopped and the result says so (`ready: true`).
 */
export async function runGatewayToExit(options: GatewayOptions): Promise<Exit & { ready: boolean; stdout: string; stderr: string; output: string }> {
  const gateway = spawnGateway(options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  while (!gateway.hasExited()) {
    if (READY_LINE.test(gateway.stdout())) {
      ready = true;
      await gateway.stop('SIGKILL');
      break;
    }
    if (Date.now() > deadline) {
      await gateway.stop('SIGKILL').catch(() => undefined);
      throw new Error(`gateway neither exited nor became ready within ${timeoutMs} ms; output:\n${gateway.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const exit = await gateway.exited;
  return { ...exit, ready, stdout: gateway.stdout(), stderr: gateway.stderr(), output: gateway.output() };
}

/** Kills every gateway this module started that is still running (for afterAll). */
export async function killAllGateways(): Promise<void> {
  await Promise.all([...running].map((g) => g.stop('SIGKILL', 5_000).catch(() => undefined)));
}

/** A fresh directory under the OS temp dir. */
export function makeTempDir(prefix = 'kms-e2e-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Writes a seed document to `<dir>/<name>` and returns its path. */
export async function writeSeedFile(dir: string, seed: unknown, name = 'seed.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(seed, null, 2));
  return path;
}
