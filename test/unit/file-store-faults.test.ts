import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * FileKeyStore under faults: a disk that refuses (injected at the fs calls the store makes, and a
 * really full tmpfs where this sandbox may mount one), writers that crash holding an entry's lock
 * (a real process, SIGKILLed), and a live writer that holds it too long.
 */

interface Fault {
  call: string;
  matches: (path: string) => boolean;
  /** The fs error code to fail with. */
  code?: string;
  /** Holds the call until this settles (before failing, if `code` is set too). */
  until?: Promise<unknown>;
  hits: number;
  thrown: Error[];
}

const faults = vi.hoisted(() => [] as Fault[]);

// Every fs/promises call the store makes, and the calls on the file handles it opens
// (`handle.sync`, …), first meet the injected faults whose path matches.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const HANDLE_CALLS = new Set(['writeFile', 'write', 'sync', 'stat', 'close']);
  const enter = async (call: string, target: unknown) => {
    const path = String(target);
    for (const fault of faults) {
      if (fault.call !== call || !fault.matches(path)) continue;
      fault.hits++;
      if (fault.until) await fault.until;
      if (fault.code) {
        const err = Object.assign(new Error(`${fault.code}: injected fault, ${call} '${path}'`), { code: fault.code, syscall: call, path });
        fault.thrown.push(err);
        throw err;
      }
    }
  };
  const pass = <F extends (...args: any[]) => Promise<unknown>>(call: string, fn: F) =>
    (async (...args: Parameters<F>) => {
      await enter(call, args[0]);
      return fn(...args);
    }) as F;
  const open = (async (...args: Parameters<typeof real.open>) => {
    const path = args[0];
    await enter('open', path);
    const handle = await real.open(...args);
    return new Proxy(handle, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop !== 'string' || !HANDLE_CALLS.has(prop)) return value.bind(target);
        return async (...args: unknown[]) => {
          await enter(`handle.${prop}`, path);
          return value.apply(target, args);
        };
      },
    });
  }) as typeof real.open;
  const fs = {
    ...real,
    open,
    link: pass('link', real.link),
    mkdir: pass('mkdir', real.mkdir),
    readdir: pass('readdir', real.readdir),
    readFile: pass('readFile', real.readFile),
    rename: pass('rename', real.rename),
    stat: pass('stat', real.stat),
    unlink: pass('unlink', real.unlink),
  };
  return { ...fs, default: fs };
});

// The lock file's own calls are synchronous (see createLockFile): they meet the same faults, under
// the names of their asynchronous counterparts (a sync call cannot be held, only failed).
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const enter = (call: string, target: unknown) => {
    const path = String(target);
    for (const fault of faults) {
      if (fault.call !== call || !fault.matches(path) || !fault.code) continue;
      fault.hits++;
      const err = Object.assign(new Error(`${fault.code}: injected fault, ${call} '${path}'`), { code: fault.code, syscall: call, path });
      fault.thrown.push(err);
      throw err;
    }
  };
  const paths = new Map<number, string>();
  const fs = {
    ...real,
    openSync: ((path: string, ...rest: unknown[]) => {
      enter('open', path);
      const fd = (real.openSync as (...args: unknown[]) => number)(path, ...rest);
      paths.set(fd, String(path));
      return fd;
    }) as typeof real.openSync,
    closeSync: ((fd: number) => {
      const path = paths.get(fd);
      paths.delete(fd);
      // A close that reports an error (NFS: a deferred write error) has closed the descriptor all the same.
      real.closeSync(fd);
      enter('handle.close', path);
    }) as typeof real.closeSync,
    writeSync: ((fd: number, ...rest: unknown[]) => {
      enter('handle.writeFile', paths.get(fd));
      return (real.writeSync as (...args: unknown[]) => number)(fd, ...rest);
    }) as typeof real.writeSync,
    mkdirSync: ((path: string, ...rest: unknown[]) => {
      enter('mkdir', path);
      return (real.mkdirSync as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof real.mkdirSync,
    readFileSync: ((path: string, ...rest: unknown[]) => {
      enter('readFile', path);
      return (real.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof real.readFileSync,
    unlinkSync: ((path: string) => {
      enter('unlink', path);
      real.unlinkSync(path);
    }) as typeof real.unlinkSync,
  };
  return { ...fs, default: fs };
});

const { CHANGES_DIR, FileKeyStore } = await import('../../lib/keystore/file/file-store.js');
const { EntryExistsError } = await import('../../lib/keystore/key-store.js');
const { KeyStoreUnavailableError } = await import('../../lib/keystore/store-errors.js');
const { keyStoreFromEnvironment } = await import('../../lib/service-from-env.js');
const { createService } = await import('../../lib/service.js');
const { createLogger } = await import('../../lib/logger.js');
type FileKeyStore = InstanceType<typeof FileKeyStore>;

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORE_MODULE = pathToFileURL(join(REPO_ROOT, 'lib/keystore/file/file-store.ts')).href;

function inject(call: string, where: string | RegExp | ((path: string) => boolean), effect: { code?: string; until?: Promise<unknown> }): Fault {
  const matches = typeof where === 'string' ? (p: string) => p === where : where instanceof RegExp ? (p: string) => where.test(p) : where;
  const fault: Fault = { call, matches, ...effect, hits: 0, thrown: [] };
  faults.push(fault);
  return fault;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-file-store-faults-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  faults.length = 0;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const bytes = (text: string) => Buffer.from(text, 'utf8');
const TMP = /\/\.tmp-[0-9a-f]+$/;
const lockPath = (dir: string, name: string) => join(dir, '.locks', createHash('sha256').update(name).digest('hex'));
const past = (ms: number) => new Date(Date.now() - ms);

/** What failed writes and lock holders may have left: temporary files anywhere, anything under .locks. */
async function leftovers(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory()) out.push(...(await leftovers(join(dir, entry.name), `${path}/`)));
    else if (entry.name.startsWith('.tmp-') || path.startsWith('.locks/')) out.push(path);
  }
  return out.sort();
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err as Error & Record<string, unknown>,
  );
}

/**
 * Starts an update that stops while it holds the entry's lock (its rename hangs), as a stuck
 * writer. `release` lets it finish.
 */
async function holdLock(dir: string, store: FileKeyStore, name: string, revision: number) {
  let release!: () => void;
  const fault = inject('rename', TMP, { until: new Promise<void>((resolve) => (release = resolve)) });
  const update = store.update(name, revision, bytes('from the holder'));
  await vi.waitFor(() => expect(fault.hits).toBe(1));
  const lockText = await readFile(lockPath(dir, name), 'utf8');
  return {
    update,
    lockText,
    release: () => {
      faults.splice(faults.indexOf(fault), 1);
      release();
    },
  };
}

/** The lock record this process writes, taken from a real lock. */
async function ownLockRecord(): Promise<Record<string, unknown>> {
  const dir = await tempDir();
  const store = new FileKeyStore(dir);
  await store.create('keys/probe', bytes('0'), { writeOnce: false });
  const held = await holdLock(dir, store, 'keys/probe', 1);
  held.release();
  await held.update;
  return JSON.parse(held.lockText) as Record<string, unknown>;
}

/**
 * A fault matcher for `path` that matches only once an update has reached its rename (so in its
 * release, not in its work), and at most `times` times.
 */
function afterRename(path: string, times = Number.POSITIVE_INFINITY): (p: string) => boolean {
  let renamed = false;
  let left = times;
  inject(
    'rename',
    (p) => {
      if (TMP.test(p)) renamed = true;
      return false;
    },
    {},
  );
  return (p) => renamed && p === path && left-- > 0;
}

/** Starts a child process that runs `body` (an ES module) with `import { FileKeyStore }` done, and resolves once it prints `ready`. */
async function startChild(body: string) {
  const script = `
    import fs from 'node:fs';
    import os from 'node:os';
    import { syncBuiltinESMExports } from 'node:module';
    ${body}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 15_000;
  while (!stdout.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the child did not get ready: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, exited, stdout: () => stdout };
}

describe('Module: file-store, under faults', () => {
  describe('a disk that refuses: KeyStoreUnavailableError io, and nothing left behind', () => {
    const ENTRY = 'keys/mutable';
    const VERSION = 'versions/v';
    type Row = [
      operation: string,
      call: string,
      code: string,
      where: (dir: string) => string | RegExp,
      entry: string | undefined,
      run: (s: FileKeyStore) => Promise<unknown>,
    ];
    const rows: Row[] = [
      ['create', 'mkdir', 'EACCES', (d) => join(d, 'fresh'), 'fresh/x', (s) => s.create('fresh/x', bytes('x'), { writeOnce: false })],
      ['create', 'handle.writeFile', 'ENOSPC', () => TMP, 'keys/new', (s) => s.create('keys/new', bytes('x'), { writeOnce: false })],
      ['create', 'handle.sync', 'EIO', () => TMP, 'versions/new', (s) => s.create('versions/new', bytes('x'), { writeOnce: true })],
      ['create', 'link', 'EDQUOT', () => TMP, 'keys/new', (s) => s.create('keys/new', bytes('x'), { writeOnce: false })],
      ['get', 'readFile', 'EAGAIN', (d) => join(d, 'keys', 'mutable'), ENTRY, (s) => s.get(ENTRY)],
      ['update', 'handle.sync', 'ENOSPC', () => TMP, ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['update', 'rename', 'EROFS', () => TMP, ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['update', 'open', 'EMFILE', (d) => lockPath(d, ENTRY), ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['update', 'handle.writeFile', 'ENOSPC', (d) => lockPath(d, ENTRY), ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['update', 'handle.sync', 'ETIMEDOUT', (d) => join(d, 'keys'), ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['delete', 'unlink', 'EBUSY', (d) => join(d, 'keys', 'mutable'), ENTRY, (s) => s.delete(ENTRY, 1)],
      ['destroy', 'open', 'EPERM', (d) => join(d, 'versions', 'v'), VERSION, (s) => s.destroy(VERSION)],
      ['destroy', 'handle.write', 'EIO', (d) => join(d, 'versions', 'v'), VERSION, (s) => s.destroy(VERSION)],
      ['list', 'readdir', 'ENFILE', (d) => join(d, 'keys'), undefined, (s) => s.list('keys/')],
      ['removeStaleTemporaryFiles', 'readdir', 'EACCES', (d) => d, undefined, (s) => s.removeStaleTemporaryFiles()],
      // The change marker: a mutable write whose marker cannot be moved is not acknowledged; a marker that cannot be read is no answer.
      ['create', 'handle.sync', 'EIO', (d) => join(d, CHANGES_DIR), 'keys/new', (s) => s.create('keys/new', bytes('x'), { writeOnce: false })],
      ['update', 'rename', 'EROFS', () => new RegExp(`/\\${CHANGES_DIR}/\\.tmp-[0-9a-f]+$`), ENTRY, (s) => s.update(ENTRY, 1, bytes('new'))],
      ['create', 'mkdir', 'EACCES', (d) => join(d, CHANGES_DIR), 'keys/new', (s) => s.create('keys/new', bytes('x'), { writeOnce: false })],
      ['changes', 'readFile', 'EIO', (d) => join(d, CHANGES_DIR, 'marker'), undefined, (s) => s.changes.read()],
    ];

    it.each(rows)(
      'when %s meets %s failing with %s, it rejects as KeyStoreUnavailableError io and leaves no temporary file or lock',
      async (operation, call, code, where, entry, run) => {
        const dir = await tempDir();
        const store = new FileKeyStore(dir);
        await store.create(ENTRY, bytes('old'), { writeOnce: false });
        await store.create(VERSION, bytes('material'), { writeOnce: true });
        const fault = inject(call, where(dir), { code });

        const err = await rejection(run(store));
        expect(err).toBeInstanceOf(KeyStoreUnavailableError);
        expect(err).toMatchObject({ reason: 'io', operation, entry });
        expect(err.message).toContain(code);
        // The last attempt's (a marker move is tried again: its entry has landed).
        expect(err.cause).toBe(fault.thrown.at(-1));

        faults.length = 0;
        expect(await leftovers(dir)).toEqual([]);
        // Once the disk serves again, so does the store (no lock was left held).
        const current = await store.get(ENTRY);
        expect(await store.update(ENTRY, current!.revision, bytes('later'))).toBe(current!.revision + 1);
      },
    );

    it.each(['ESTALE', 'ENOTCONN', 'ENETDOWN', 'EHOSTDOWN', 'ENETUNREACH', 'EHOSTUNREACH'])(
      'when a network file system (NFS, NAS) fails with %s, reads and writes reject as KeyStoreUnavailableError io, not as a fault',
      async (code) => {
        const dir = await tempDir();
        const store = new FileKeyStore(dir);
        await store.create(ENTRY, bytes('old'), { writeOnce: false });
        const read = inject('readFile', join(dir, 'keys', 'mutable'), { code });
        const err = await rejection(store.get(ENTRY));
        expect(err).toBeInstanceOf(KeyStoreUnavailableError);
        expect(err).toMatchObject({ reason: 'io', operation: 'get', entry: ENTRY, cause: read.thrown[0] });
        faults.length = 0;
        inject('rename', TMP, { code });
        await expect(store.update(ENTRY, 1, bytes('new'))).rejects.toMatchObject({ reason: 'io', operation: 'update' });
        faults.length = 0;
        expect(await leftovers(dir)).toEqual([]);
        expect(await store.update(ENTRY, 1, bytes('later'))).toBe(2);
      },
    );

    it('when a write fails after its temporary file is written, the old value stays', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create(ENTRY, bytes('old'), { writeOnce: false });
      inject('handle.sync', TMP, { code: 'ENOSPC' });
      await expect(store.update(ENTRY, 1, bytes('new'))).rejects.toMatchObject({ reason: 'io' });
      await expect(store.create('keys/other', bytes('new'), { writeOnce: false })).rejects.toMatchObject({ reason: 'io' });
      faults.length = 0;
      expect(await store.get(ENTRY)).toEqual({ value: bytes('old'), revision: 1, writeOnce: false });
      expect(await store.get('keys/other')).toBeUndefined();
    });

    it('when an error is not a refusing disk, it passes through unchanged (and still leaves no temporary file)', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create(ENTRY, bytes('old'), { writeOnce: false });
      await expect(store.create(ENTRY, bytes('again'), { writeOnce: false })).rejects.toBeInstanceOf(EntryExistsError);
      const isDir = inject('readFile', join(dir, 'keys', 'mutable'), { code: 'EISDIR' });
      expect(await rejection(store.get(ENTRY))).toBe(isDir.thrown[0]);
      faults.length = 0;
      const invalid = inject('rename', TMP, { code: 'EINVAL' });
      const err = await rejection(store.update(ENTRY, 1, bytes('new')));
      expect(err).toBe(invalid.thrown[0]);
      expect(err).not.toBeInstanceOf(KeyStoreUnavailableError);
      expect(await leftovers(dir)).toEqual([]);
    });
  });

  describe('a disk that is really full (tmpfs of 64 KiB where it can be mounted, else an injected ENOSPC)', () => {
    let dir: string;
    let mounted = false;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kms-full-disk-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'kms-full-disk', dir], { stdio: 'ignore' });
        mounted = true;
      } catch {
        mounted = false;
      }
    });
    afterAll(async () => {
      if (mounted) execFileSync('umount', [dir], { stdio: 'ignore' });
      await rm(dir, { recursive: true, force: true });
    });

    it('when a value does not fit, create and update reject as io ENOSPC, leave no temporary file, keep the old value, and smaller writes still succeed', async () => {
      const store = new FileKeyStore(dir);
      await store.create('keys/small', bytes('fits'), { writeOnce: false });
      if (!mounted) inject('handle.writeFile', TMP, { code: 'ENOSPC' });
      const big = Buffer.alloc(256 * 1024, 7);
      for (const write of [() => store.create('keys/big', big, { writeOnce: true }), () => store.update('keys/small', 1, big)]) {
        const err = await rejection(write());
        expect(err).toBeInstanceOf(KeyStoreUnavailableError);
        expect(err).toMatchObject({ reason: 'io', cause: expect.objectContaining({ code: 'ENOSPC' }) });
      }
      faults.length = 0;
      expect(await leftovers(dir)).toEqual([]);
      expect(await store.get('keys/big')).toBeUndefined();
      expect(await store.get('keys/small')).toEqual({ value: bytes('fits'), revision: 1, writeOnce: false });
      expect(await store.update('keys/small', 1, bytes('still fits'))).toBe(2);
    });
  });

  describe('temporary files of writers that died', () => {
    /** Old and fresh temporary files in two namespaces, old and fresh .break locks, and real entries. */
    async function litter(dir: string) {
      const store = new FileKeyStore(dir);
      await store.create('keys/k', bytes('k'), { writeOnce: false });
      await store.create('versions/v', bytes('v'), { writeOnce: true });
      await store.update('keys/k', 1, bytes('k2'));
      const files = {
        oldKeysTmp: join(dir, 'keys', '.tmp-00000000000000aa'),
        oldVersionsTmp: join(dir, 'versions', '.tmp-00000000000000bb'),
        oldMarkerTmp: join(dir, CHANGES_DIR, '.tmp-00000000000000dd'),
        freshTmp: join(dir, 'keys', '.tmp-00000000000000cc'),
        oldBreak: `${lockPath(dir, 'keys/a')}.break`,
        freshBreak: `${lockPath(dir, 'keys/b')}.break`,
      };
      for (const path of Object.values(files)) await writeFile(path, 'partial', { mode: 0o600 });
      for (const path of [files.oldKeysTmp, files.oldVersionsTmp, files.oldMarkerTmp, files.oldBreak]) await utimes(path, past(120_000), past(120_000));
      return files;
    }

    it('when removeStaleTemporaryFiles runs, it removes .tmp-* files and .break locks past their age in every namespace, and keeps fresh ones (a live writer’s) and every entry', async () => {
      const dir = await tempDir();
      const files = await litter(dir);
      await new FileKeyStore(dir).removeStaleTemporaryFiles();
      expect(await leftovers(dir)).toEqual([relative(dir, files.freshBreak), relative(dir, files.freshTmp)].sort());
      const store = new FileKeyStore(dir);
      expect((await store.get('keys/k'))!.value).toEqual(bytes('k2'));
      expect((await store.get('versions/v'))!.value).toEqual(bytes('v'));
      expect(await store.list('')).toEqual(['keys/k', 'versions/v']);
    });

    it('when the store is opened with FileKeyStore.open, or built from the environment (KMS_DATA_DIR), the stale files are gone', async () => {
      for (const openStore of [
        (dir: string) => FileKeyStore.open(dir),
        (dir: string) => keyStoreFromEnvironment({ KMS_KEY_STORE: 'file', KMS_DATA_DIR: dir }),
      ]) {
        const dir = await tempDir();
        const files = await litter(dir);
        const store = await openStore(dir);
        for (const stale of [files.oldKeysTmp, files.oldVersionsTmp, files.oldMarkerTmp, files.oldBreak])
          await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
        for (const fresh of [files.freshTmp, files.freshBreak]) await expect(stat(fresh)).resolves.toBeDefined();
        // (Opened through the environment, the store is sealed first: one more revision.)
        const { revision } = (await store.get('keys/k'))!;
        expect(await store.update('keys/k', revision, bytes('k3'))).toBe(revision + 1);
      }
    });

    it('when the leftovers cannot be removed (a read-only disk), FileKeyStore.open still opens the store, which serves reads', async () => {
      const dir = await tempDir();
      const files = await litter(dir);
      const refused = inject('unlink', TMP, { code: 'EROFS' });
      const store = await FileKeyStore.open(dir);
      expect(refused.hits).toBeGreaterThan(0);
      expect((await store.get('keys/k'))!.value).toEqual(bytes('k2'));
      await expect(stat(files.oldKeysTmp)).resolves.toBeDefined();
    });
  });

  describe('the per-entry lock', () => {
    it('when a writer in another process is killed (SIGKILL) while it holds an entry’s lock, the next update succeeds at once, not after the wait timeout', {
      timeout: 20_000,
    }, async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/crash', bytes('before'), { writeOnce: false });
      // The child's store stops inside update, holding the lock: its rename never returns.
      const script = `
        import fs from 'node:fs';
        import { syncBuiltinESMExports } from 'node:module';
        fs.promises.rename = () => { process.stdout.write('holding\\n'); return new Promise(() => {}); };
        syncBuiltinESMExports();
        setInterval(() => {}, 60_000);
        const { FileKeyStore } = await import(${JSON.stringify(STORE_MODULE)});
        await new FileKeyStore(${JSON.stringify(dir)}).update('keys/crash', 1, Buffer.from('never written'));
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = once(child, 'exit');
      try {
        await vi.waitFor(
          () => {
            if (child.exitCode !== null) throw new Error(`the child exited early: ${stderr}`);
            expect(stdout).toContain('holding');
          },
          { timeout: 15_000, interval: 20 },
        );
      } finally {
        child.kill('SIGKILL');
      }
      await exited;
      const lock = lockPath(dir, 'keys/crash');
      expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: child.pid });

      const started = performance.now();
      expect(await store.update('keys/crash', 1, bytes('after'))).toBe(2);
      expect(performance.now() - started).toBeLessThan(500);
      expect((await store.get('keys/crash'))!.value).toEqual(bytes('after'));
      await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
      // The temporary file the killed writer had written goes at the next start, once old enough.
      expect((await leftovers(dir)).filter((f) => f.includes('.tmp-'))).toHaveLength(1);
      await store.removeStaleTemporaryFiles(0);
      expect(await leftovers(dir)).toEqual([]);
    });

    it('when the lock’s holder is a live process on this machine, it is not broken even past the stale age: the waiter gives up with KeyStoreUnavailableError busy, and the holder then finishes', async () => {
      const dir = await tempDir();
      const holder = new FileKeyStore(dir);
      const waiter = new FileKeyStore(dir, { lockTimeoutMs: 600, staleLockMs: 100 });
      await holder.create('keys/held', bytes('before'), { writeOnce: false });
      const held = await holdLock(dir, holder, 'keys/held', 1);

      const started = Date.now();
      const err = await rejection(waiter.update('keys/held', 1, bytes('from the waiter')));
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect(err).toBeInstanceOf(KeyStoreUnavailableError);
      expect(err).toMatchObject({ reason: 'busy', operation: 'update', entry: 'keys/held' });
      await expect(rejection(waiter.delete('keys/held', 1))).resolves.toMatchObject({ reason: 'busy', operation: 'delete' });
      expect(await readFile(lockPath(dir, 'keys/held'), 'utf8')).toBe(held.lockText);

      held.release();
      expect(await held.update).toBe(2);
      expect(await holder.get('keys/held')).toMatchObject({ value: bytes('from the holder'), revision: 2 });
      expect(await leftovers(dir)).toEqual([]);
    });

    it('when the lock’s pid is alive but was reused (another start time), the lock is broken at once', async () => {
      const own = await ownLockRecord();
      expect(own).toMatchObject({ pid: process.pid, startTime: expect.stringMatching(/^\d+$/), bootId: expect.any(String) });
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/reused', bytes('before'), { writeOnce: false });
      await mkdir(join(dir, '.locks'), { recursive: true });
      await writeFile(lockPath(dir, 'keys/reused'), JSON.stringify({ ...own, token: 'a writer that died', startTime: `${Number(own.startTime) - 1}` }));
      const started = performance.now();
      expect(await store.update('keys/reused', 1, bytes('after'))).toBe(2);
      expect(performance.now() - started).toBeLessThan(500);
    });

    it('when the lock file no longer holds this writer’s token at release (it was broken and taken), release leaves it alone', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/taken', bytes('before'), { writeOnce: false });
      const held = await holdLock(dir, store, 'keys/taken', 1);
      const other = JSON.stringify({ ...JSON.parse(held.lockText), token: 'another writer' });
      await writeFile(lockPath(dir, 'keys/taken'), other);
      held.release();
      expect(await held.update).toBe(2);
      expect(await readFile(lockPath(dir, 'keys/taken'), 'utf8')).toBe(other);
    });

    const STALE_MS = 300;
    const unverifiable: Array<[string, (own: Record<string, unknown>) => string]> = [
      ['held on another host (a shared NAS), even with a pid alive here', (own) => JSON.stringify({ ...own, token: 't', host: 'another-host.example' })],
      ['held on this host before a reboot (another boot id)', (own) => JSON.stringify({ ...own, token: 't', bootId: '00000000-0000-0000-0000-000000000000' })],
      ['garbled', () => 'not a lock record'],
      ['empty (its writer died between create and write)', () => ''],
    ];
    it.each(unverifiable)('when the lock is %s, it is not broken before the stale age, and is broken after it, within the wait timeout', async (_, content) => {
      const own = await ownLockRecord();
      const dir = await tempDir();
      const store = new FileKeyStore(dir, { lockTimeoutMs: 3_000, staleLockMs: STALE_MS });
      await store.create('keys/unverifiable', bytes('before'), { writeOnce: false });
      await mkdir(join(dir, '.locks'), { recursive: true });
      const written = Date.now();
      await writeFile(lockPath(dir, 'keys/unverifiable'), content(own));
      expect(await store.update('keys/unverifiable', 1, bytes('after'))).toBe(2);
      const waited = Date.now() - written;
      // The file's mtime may be a few ms coarser than Date.now().
      expect(waited).toBeGreaterThanOrEqual(STALE_MS - 30);
      expect(waited).toBeLessThan(2_000);
      expect(await leftovers(dir)).toEqual([]);
    });

    it('when writing a new lock fails and so does closing it, the lock file is still removed: no writer waits for it to age', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir, { lockTimeoutMs: 1_500, staleLockMs: 1_000 });
      await store.create('keys/k1', bytes('old'), { writeOnce: false });
      const write = inject('handle.writeFile', lockPath(dir, 'keys/k1'), { code: 'ENOSPC' });
      const close = inject('handle.close', lockPath(dir, 'keys/k1'), { code: 'EIO' });

      const err = await rejection(store.update('keys/k1', 1, bytes('new')));
      expect(err).toMatchObject({ reason: 'io', operation: 'update' });
      expect(write.hits).toBe(1);
      expect(close.hits).toBe(1);
      faults.length = 0;
      expect(await leftovers(dir)).toEqual([]);
      const started = performance.now();
      expect(await store.update('keys/k1', 1, bytes('new'))).toBe(2);
      expect(performance.now() - started).toBeLessThan(500);
    });

    describe('a release that fails', () => {
      it.each([
        ['readFile', 'EMFILE'],
        ['unlink', 'EIO'],
      ])(
        'when the release’s %s of its lock fails once (%s), the release tries again: no lock is left, and the next update of the entry does not wait',
        async (call, code) => {
          const dir = await tempDir();
          const store = new FileKeyStore(dir, { lockTimeoutMs: 1_500, staleLockMs: 1_000 });
          await store.create('keys/k1', bytes('v1'), { writeOnce: false });
          const lock = lockPath(dir, 'keys/k1');
          const fault = inject(call, afterRename(lock, 1), { code });

          expect(await store.update('keys/k1', 1, bytes('v2'))).toBe(2);
          expect(fault.hits).toBe(1);
          await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
          const started = performance.now();
          expect(await store.update('keys/k1', 2, bytes('v3'))).toBe(3);
          expect(performance.now() - started).toBeLessThan(500);
        },
      );

      it.each([
        ['the same store', (s: FileKeyStore) => s],
        ['another store object in this process', (_s: FileKeyStore, dir: string) => new FileKeyStore(dir, { lockTimeoutMs: 3_000, staleLockMs: 2_000 })],
      ])(
        'when every attempt of a release fails, the lock left behind names this live process but is not held: the next update by %s breaks it at once instead of answering busy',
        async (_, writer) => {
          const dir = await tempDir();
          const store = new FileKeyStore(dir, { lockTimeoutMs: 3_000, staleLockMs: 2_000 });
          await store.create('keys/k1', bytes('v1'), { writeOnce: false });
          const lock = lockPath(dir, 'keys/k1');
          const fault = inject('readFile', afterRename(lock), { code: 'EMFILE' });

          expect(await store.update('keys/k1', 1, bytes('v2'))).toBe(2);
          const released = performance.now();
          const attempts = fault.hits;
          faults.length = 0;
          // Still there (the retry in the background comes only half a stale age later), naming this process.
          expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid });

          expect(await writer(store, dir).update('keys/k1', 2, bytes('v3'))).toBe(3);
          expect(performance.now() - released).toBeLessThan(800);
          expect(attempts).toBeGreaterThan(1); // the release tried again before it gave up
          expect(await store.get('keys/k1')).toMatchObject({ value: bytes('v3'), revision: 3 });
          expect(await leftovers(dir)).toEqual([]);
        },
      );

      it('when every attempt of a release fails, the lock is removed in the background soon after (other processes cannot tell it is not held), even when the first late try fails too', async () => {
        const dir = await tempDir();
        const store = new FileKeyStore(dir, { lockTimeoutMs: 600, staleLockMs: 200 });
        await store.create('keys/k1', bytes('v1'), { writeOnce: false });
        const lock = lockPath(dir, 'keys/k1');
        const fault = inject('unlink', afterRename(lock), { code: 'EIO' });

        expect(await store.update('keys/k1', 1, bytes('v2'))).toBe(2);
        const atRelease = fault.hits;
        expect(atRelease).toBeGreaterThan(1);
        await expect(stat(lock)).resolves.toBeDefined();
        // The first late try (100 ms on) meets the failing disk too ...
        await vi.waitFor(() => expect(fault.hits).toBeGreaterThan(atRelease), { timeout: 2_000, interval: 10 });
        await expect(stat(lock)).resolves.toBeDefined();
        faults.length = 0;
        // ... a later one removes it, with no write of this process to the entry in between.
        await vi.waitFor(() => expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' }), { timeout: 2_000, interval: 10 });
        expect(await leftovers(dir)).toEqual([]);
      });
    });

    describe('a live holder that cannot be checked (another host) is kept alive by its heartbeat', () => {
      it('when a writer holds a lock longer than the stale age, its lock file’s mtime stays fresh, so no waiter takes it for abandoned', async () => {
        const dir = await tempDir();
        const STALE = 200;
        const store = new FileKeyStore(dir, { lockTimeoutMs: 1_000, staleLockMs: STALE });
        await store.create('keys/slow', bytes('before'), { writeOnce: false });
        const held = await holdLock(dir, store, 'keys/slow', 1);
        const lock = lockPath(dir, 'keys/slow');
        const created = (await stat(lock)).mtimeMs;
        // Held three stale ages: judged by age (as a waiter on another host does), it never looks abandoned.
        for (let i = 0; i < 4; i++) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          expect(Date.now() - (await stat(lock)).mtimeMs).toBeLessThan(STALE);
        }
        expect((await stat(lock)).mtimeMs).toBeGreaterThan(created);
        held.release();
        expect(await held.update).toBe(2);
        await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
      });

      it('when a process on another host (a shared NAS) holds a lock past the stale age, a waiter does not break it (busy); once that process is killed, the lock is broken after the stale age', {
        timeout: 30_000,
      }, async () => {
        const STALE = 400;
        const dir = await tempDir();
        const waiter = new FileKeyStore(dir, { lockTimeoutMs: 1_500, staleLockMs: STALE });
        await waiter.create('keys/nas', bytes('before'), { writeOnce: false });
        // The child reports another host name, and stops inside update holding the lock (its rename never returns).
        const { child, exited, stdout } = await startChild(`
          os.hostname = () => 'another-host.example';
          fs.promises.rename = () => { process.stdout.write('holding\\n'); return new Promise(() => {}); };
          syncBuiltinESMExports();
          setInterval(() => {}, 60_000);
          const { FileKeyStore } = await import(${JSON.stringify(STORE_MODULE)});
          process.stdout.write('ready\\n');
          await new FileKeyStore(${JSON.stringify(dir)}, { lockTimeoutMs: 1_500, staleLockMs: ${STALE} }).update('keys/nas', 1, Buffer.from('from the other host'));
        `);
        const lock = lockPath(dir, 'keys/nas');
        try {
          await vi.waitFor(() => expect(stdout()).toContain('holding'), { timeout: 10_000, interval: 10 });
          expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ host: 'another-host.example', pid: child.pid });
          const taken = Date.now();

          const err = await rejection(waiter.update('keys/nas', 1, bytes('from the waiter')));
          expect(err).toBeInstanceOf(KeyStoreUnavailableError);
          expect(err).toMatchObject({ reason: 'busy', operation: 'update', entry: 'keys/nas' });
          expect(Date.now() - taken).toBeGreaterThan(2 * STALE);
          expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: child.pid });
        } finally {
          child.kill('SIGKILL');
        }
        await exited;

        const killed = Date.now();
        expect(await waiter.update('keys/nas', 1, bytes('from the waiter'))).toBe(2);
        // Once its heartbeat stopped, after the stale age (less what had passed since its last beat).
        const waited = Date.now() - killed;
        expect(waited).toBeGreaterThanOrEqual(STALE / 2);
        expect(waited).toBeLessThan(1_500);
        expect(await waiter.get('keys/nas')).toMatchObject({ value: bytes('from the waiter'), revision: 2 });
      });
    });

    describe('a write whose lock was broken while it was held', () => {
      const cases: Array<[string, string, (s: FileKeyStore) => Promise<unknown>]> = [
        ['update', 'keys/m', (s) => s.update('keys/m', 1, bytes('lost'))],
        ['delete', 'keys/m', (s) => s.delete('keys/m', 1)],
        ['destroy', 'versions/v', (s) => s.destroy('versions/v')],
      ];
      it.each(cases)(
        'when another writer broke and took the lock during %s, it commits nothing and rejects as busy (never two writers)',
        async (operation, name, run) => {
          const dir = await tempDir();
          const store = new FileKeyStore(dir);
          await store.create('keys/m', bytes('kept'), { writeOnce: false });
          await store.create('versions/v', bytes('material'), { writeOnce: true });
          const before = await store.get(name);
          // The writer stalls reading the entry under its lock (a slow disk) ...
          let resume!: () => void;
          const stall = inject('readFile', join(dir, name), { until: new Promise<void>((resolve) => (resume = resolve)) });
          const write = run(store);
          await vi.waitFor(() => expect(stall.hits).toBe(1));
          // ... meanwhile another writer broke its lock and now holds the entry.
          const lock = lockPath(dir, name);
          const other = JSON.stringify({ token: 'another writer', host: 'another-host.example', pid: 7 });
          await rm(lock);
          await writeFile(lock, other);
          resume();

          const err = await rejection(write);
          expect(err).toBeInstanceOf(KeyStoreUnavailableError);
          expect(err).toMatchObject({ reason: 'busy', operation, entry: name });
          faults.length = 0;
          expect(await store.get(name)).toEqual(before);
          expect(await readFile(lock, 'utf8')).toBe(other);
          expect((await leftovers(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
        },
      );
    });

    it('when options would let a dead holder outlast the waiter (stale age not shorter than the wait timeout), the constructor refuses them', async () => {
      const dir = await tempDir();
      expect(() => new FileKeyStore(dir, { lockTimeoutMs: 1_000, staleLockMs: 1_000 })).toThrow(RangeError);
      expect(() => new FileKeyStore(dir, { staleLockMs: 0 })).toThrow(RangeError);
      expect(() => new FileKeyStore(dir)).not.toThrow();
    });
  });

  describe('a write that landed but whose change marker could not be moved', () => {
    const MARKER_TMP = new RegExp(`/\\${CHANGES_DIR}/\\.tmp-[0-9a-f]+$`);
    type Write = [operation: string, run: (s: FileKeyStore) => Promise<unknown>];
    const writes: Write[] = [
      ['create', (s) => s.create('keys/new', bytes('x'), { writeOnce: false })],
      ['update', (s) => s.update('keys/m', 1, bytes('new'))],
      ['delete', (s) => s.delete('keys/m', 1)],
    ];

    it.each(writes)(
      'when the move fails every attempt after a %s, this process reads a marker it never read before, and the same one until the next change',
      async (_operation, run) => {
        const dir = await tempDir();
        const store = new FileKeyStore(dir);
        await store.create('keys/m', bytes('old'), { writeOnce: false });
        const before = await store.changes.read();
        const fault = inject('rename', MARKER_TMP, { code: 'EIO' });
        await expect(run(store)).rejects.toMatchObject({ reason: 'io' });
        expect(fault.hits).toBe(3);
        faults.length = 0;
        const after = await store.changes.read();
        expect(after).not.toBe(before);
        expect(await store.changes.read()).toBe(after);
        // Another process on the directory reads the marker as it is: nothing moved it.
        expect(await new FileKeyStore(dir).changes.read()).toBe(before);
        // The next change moves it for everyone.
        await store.create('keys/later', bytes('x'), { writeOnce: false });
        expect(await store.changes.read()).not.toBe(after);
        expect(await new FileKeyStore(dir).changes.read()).not.toBe(before);
      },
    );

    it('when a write is refused with an answer (conflict, exists, missing, write-once), the marker as read here stays', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/m', bytes('old'), { writeOnce: false });
      await store.create('versions/v', bytes('material'), { writeOnce: true });
      const before = await store.changes.read();
      await expect(store.update('keys/m', 7, bytes('x'))).rejects.toMatchObject({ name: 'RevisionConflictError' });
      await expect(store.create('keys/m', bytes('x'), { writeOnce: false })).rejects.toBeInstanceOf(EntryExistsError);
      await expect(store.delete('keys/missing', 1)).rejects.toMatchObject({ name: 'EntryNotFoundError' });
      await expect(store.update('versions/v', 1, bytes('x'))).rejects.toMatchObject({ name: 'WriteOnceViolationError' });
      expect(await store.changes.read()).toBe(before);
    });

    it('when the move fails once, it is tried again and the write succeeds, the marker moved', async () => {
      const dir = await tempDir();
      const store = new FileKeyStore(dir);
      await store.create('keys/m', bytes('old'), { writeOnce: false });
      const before = await store.changes.read();
      let left = 1;
      const fault = inject('rename', (p) => MARKER_TMP.test(p) && left-- > 0, { code: 'ENOSPC' });
      expect(await store.update('keys/m', 1, bytes('new'))).toBe(2);
      expect(fault.hits).toBe(1);
      faults.length = 0;
      expect(await new FileKeyStore(dir).changes.read()).not.toBe(before);
      expect(await leftovers(dir)).toEqual([]);
    });

    it('when the service changed a key that way (503), its own next request reads the key as stored, not as it had cached it', async () => {
      const dir = await tempDir();
      const service = createService({ store: new FileKeyStore(dir), cacheTtlMs: 60_000, logger: createLogger({ level: 'silent' }) });
      const { keyId } = await service.keyring.createKey({ description: 'before' });
      await service.validateCaches();
      expect((await service.keyring.getKey(keyId))?.description).toBe('before');
      inject('rename', MARKER_TMP, { code: 'EROFS' });
      await expect(service.keyring.updateKey(keyId, (key) => ({ ...key, description: 'landed' }))).rejects.toMatchObject({ reason: 'io' });
      faults.length = 0;
      await service.validateCaches();
      expect((await service.keyring.getKey(keyId))?.description).toBe('landed');
    });
  });
});
