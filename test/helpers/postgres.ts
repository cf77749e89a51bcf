import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, chown, constants, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

/** A throw-away PostgreSQL server for tests, on 127.0.0.1. */
export interface TestPostgres {
  /** `postgres://kms@127.0.0.1:<port>/postgres` (trust authentication: no password). */
  url: string;
  port: number;
  /** Stops the server process (fast shutdown) and keeps its data: clients see it go away. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same data and port, and waits until it accepts connections. */
  startServer(): Promise<void>;
  /** Stops the server and removes its directories; idempotent. */
  stop(): Promise<void>;
}

/** How long the server may take to accept connections, and a fast shutdown to finish. */
const READY_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** The last this many characters of the server's output are kept, for the error when it fails. */
const OUTPUT_KEPT = 16_384;

const execFileAsync = promisify(execFile);

/**
 * Starts a PostgreSQL server of its own in a temporary directory: `initdb` (trust authentication,
 * superuser `kms`, UTF-8, C locale, no fsync), then `postgres` on a free port of 127.0.0.1 with
 * durability off (fsync, synchronous_commit, full_page_writes: fast, and nothing here must survive
 * a crash). One per test file: call it in beforeAll and `stop()` in afterAll.
 *
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user (the
 * spawn's uid/gid, so that signals reach the server itself: `runuser` does not pass SIGINT on),
 * and the temporary directories are handed to it.
 *
 * Needs the server binaries (initdb, postgres): /usr/lib/postgresql/<version>/bin (the newest), or
 * on PATH. Without them it throws, saying what to install; it never skips.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = await findServerBinaries();
  const as = await runAsUser();
  const base = await mkdtemp(join(tmpdir(), 'kms-postgres-'));
  const data = join(base, 'data');
  const sockets = join(base, 'sockets');
  let server: ServerProcess | undefined;
  const stopOnExit = () => server?.child.kill('SIGQUIT');
  try {
    await mkdir(data, { mode: 0o700 });
    await mkdir(sockets, { mode: 0o700 });
    if (as) for (const dir of [base, data, sockets]) await chown(dir, as.uid, as.gid);
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'kms', '--no-sync', '-E', 'UTF8', '--no-locale'], as, base);

    let port = 0;
    // The free port may be taken between finding and binding it: then another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        server = await startServerProcess(bin, data, sockets, port, as, base);
        break;
      } catch (err) {
        if (attempt >= 3 || !/could not (bind|create any TCP\/IP sockets)|address already in use/i.test(String(err))) throw err;
      }
    }
    // A test worker that exits without stop(): an immediate shutdown, not an orphaned server.
    process.once('exit', stopOnExit);

    let stopping: Promise<void> | undefined;
    return {
      url: `postgres://kms@127.0.0.1:${port}/postgres`,
      port,
      async stopServer() {
        await server?.stop();
        server = undefined;
      },
      async startServer() {
        if (server) return;
        server = await startServerProcess(bin, data, sockets, port, as, base);
      },
      stop() {
        stopping ??= (async () => {
          await server?.stop();
          server = undefined;
          process.off('exit', stopOnExit);
          await rm(base, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    await server?.stop();
    process.off('exit', stopOnExit);
    await rm(base, { recursive: true, force: true });
    throw err;
  }
}

/** The user to run the server as: the `postgres` user when we are root, else ourselves (undefined). */
async function runAsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim())));
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new Error('id printed no number');
    return { uid: uid!, gid: gid! };
  } catch (err) {
    throw new Error(
      'PostgreSQL refuses to run as root, and there is no "postgres" user to run it as: install Debian\'s `postgresql` package (apt-get install postgresql), which creates it',
      { cause: err },
    );
  }
}

/** The directory holding initdb and postgres. */
async function findServerBinaries(): Promise<string> {
  const candidates: string[] = [];
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  // Newest first: "15" before "9.6".
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) candidates.push(join('/usr/lib/postgresql', version, 'bin'));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(dir);
  for (const dir of candidates) {
    const present = await Promise.all(
      ['initdb', 'postgres'].map((name) =>
        access(join(dir, name), constants.X_OK).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (present.every(Boolean)) return dir;
  }
  throw new Error(
    "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH: install Debian's `postgresql` package " +
      '(apt-get install postgresql) to run the postgres backend tests',
  );
}

/** Runs a command to completion (as `as`, when given); rejects with its output when it fails. */
async function run(command: string, args: string[], as: { uid: number; gid: number } | undefined, cwd: string): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd, ...(as ?? {}), env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} failed: ${String(stderr ?? '')}${String(stdout ?? '')}`.slice(0, OUTPUT_KEPT), { cause: err });
  }
}

interface ServerProcess {
  child: ChildProcess;
  /** Fast shutdown (SIGINT: clients are disconnected), SIGKILL if it takes too long. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `postgres` and resolves once it accepts connections; rejects with its output if it exits first or never does. */
async function startServerProcess(
  bin: string,
  data: string,
  sockets: string,
  port: number,
  as: { uid: number; gid: number } | undefined,
  cwd: string,
): Promise<ServerProcess> {
  const args = ['-D', data, '-p', String(port), '-k', sockets];
  for (const setting of ['listen_addresses=127.0.0.1', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off']) args.push('-c', setting);
  const child = spawn(join(bin, 'postgres'), args, { cwd, ...(as ?? {}), env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-OUTPUT_KEPT);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
      child.kill('SIGINT');
      const done = await Promise.race([exited.then(() => true), sleep(SHUTDOWN_TIMEOUT_MS).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`postgres could not be started: ${spawnError.message}`, { cause: spawnError });
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited before accepting connections:\n${output}`);
    if (await accepts(port)) return { child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
}

/** Whether a connection and `SELECT 1` succeed. */
async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'kms', database: 'postgres', connectionTimeoutMillis: 1_000 });
  // A failed connect also emits 'error' on some paths: never let it go unhandled.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A port of 127.0.0.1 that nothing listens on (free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
