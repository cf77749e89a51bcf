import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, constants, existsSync, futimes, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, readFile, readlink, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import {
  assertEntryName,
  type ChangeMarker,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from '../key-store.js';
import { closeAfter, fsyncDirectory, unavailableIoCode, writeTemporaryFile } from '@alibaba-kms-compatible/client/internal/durable-files';
import { LocalChangeMarker } from '../local-change-marker.js';
import { KeyStoreUnavailableError } from '../store-errors.js';

/** How long a writer waits for another writer's lock before the store reports itself busy. */
export const LOCK_TIMEOUT_MS = 10_000;
/**
 * Age of a lock file's mtime after which a lock whose holder cannot be checked (it runs on another
 * host, or the lock file names no holder) is taken as abandoned. A holder refreshes the mtime every
 * fifth of this (its heartbeat) for as long as it holds the lock, so only a holder that stopped
 * (died, or its host went away) ever gets this old. Shorter than {@link LOCK_TIMEOUT_MS}, so that a
 * waiter always outlives a dead holder.
 */
export const STALE_LOCK_MS = 5_000;
/** Age after which a temporary file belongs to a writer that died (see removeStaleTemporaryFiles). */
export const STALE_TEMPORARY_FILE_MS = 60_000;

/**
 * The directory of the store's change marker (see ChangeMarker): one file, `marker`, holding a
 * random token that every mutable write replaces (a new file moved into place, so a reader sees
 * one token or the other). Hidden, so no listing ever takes it for a namespace.
 */
export const CHANGES_DIR = '.changes';
const MARKER_FILE = 'marker';
/** Attempts to move the change marker after an entry's write landed, and the first pause between them (growing fourfold). */
const MARKER_MOVE_ATTEMPTS = 3;
const MARKER_MOVE_BACKOFF_MS = 10;

/**
 * A waiter for a held lock announces itself in `<lock>.waiting` (its token; the file rewritten at
 * every attempt), so that a holder running one section after another (see exclusive) ends them and
 * hands the lock over. An announcement further than this from now, either way, was left by a waiter
 * that stopped waiting (or the clock moved since).
 */
const WAITING_FRESH_MS = 250;
/**
 * After a holder ended its section for a waiter, how long it leaves the lock to that waiter before
 * taking it again: far longer than an announced waiter's pause between attempts.
 */
const HANDOVER_MS = 80;
/** An announced waiter's longest pause between attempts (ms), plus as much again at random: a lock handed over is taken within it. */
const ANNOUNCED_PAUSE_MS = 2;

/** Attempts to remove a lock file at release, and the first pause between them (growing fourfold). */
const RELEASE_ATTEMPTS = 4;
const RELEASE_BACKOFF_MS = 10;
/**
 * After a release that failed every attempt: how many more tries, in the background, the first a
 * half stale-lock age later (then doubling). Other processes on this machine cannot know that the
 * lock's holder (this live process) is done with it, and would wait for it until their timeout.
 */
const LATE_RELEASE_ATTEMPTS = 5;

/**
 * The tokens of the entry locks this process (this thread: a worker thread has its own) holds now,
 * shared by every FileKeyStore in it. A lock file that names this process with a token not in it is
 * one this process no longer holds: its release failed, so it is broken at once. Kept on globalThis
 * so that two copies of this module in one process (bundles, duplicated packages) still share it:
 * a copy that did not know another's tokens would break its live locks.
 */
const HELD_LOCK_TOKENS = Symbol.for('alibaba-kms-compatible/file-store/held-lock-tokens');
const processGlobals = globalThis as Record<symbol, unknown>;
processGlobals[HELD_LOCK_TOKENS] ??= new Set<string>();
const heldLockTokens = processGlobals[HELD_LOCK_TOKENS] as Set<string>;

export interface FileKeyStoreOptions {
  /** Default {@link LOCK_TIMEOUT_MS}. */
  lockTimeoutMs?: number;
  /** Default {@link STALE_LOCK_MS}; must be shorter than lockTimeoutMs. */
  staleLockMs?: number;
}

interface EntryFile {
  revision: number;
  writeOnce: boolean;
  value: string;
}

/**
 * The embedded default {@link KeyStore}: one file per entry under a directory.
 *
 * Layout: `<dir>/<namespace>/<rest of the name, "/" written as "!">`, so `ls` shows what is
 * stored. Files are 0600, directories 0700.
 *
 * Atomicity and durability: every write goes to a temporary file that is fsynced, then moved into
 * place and the directory fsynced. `create` moves with `link(2)`, which fails if the name exists,
 * so two processes can never both create one entry and a write-once entry can never be replaced.
 * `update`, `delete` and `destroy` hold a lock file (shared by every process on the directory) across
 * read–compare–write, and check just before they commit that it still holds their token.
 * A failed write removes its temporary file; {@link FileKeyStore.open} removes those of writers
 * that crashed.
 *
 * Failures: a disk that refuses (see UNAVAILABLE_IO_CODES in the client package's internal/durable-files.ts) or a lock held past the wait
 * timeout is a {@link KeyStoreUnavailableError} (`io`, `busy`); every other error keeps its meaning.
 */
export class FileKeyStore implements KeyStore {
  /**
   * Read synchronously, as the locks are taken (see createLockFile): a few microseconds on a local
   * disk, at most once per event-loop turn (lib/keystore/change-watch.ts), where an asynchronous
   * read would wait behind the turn's requests. Any failure but "no marker yet" (no mutable write
   * ever) is unavailable: a cache must not be trusted on a marker that could not be read. A mutable
   * write that failed here moves this process's view of it (see LocalChangeMarker).
   */
  readonly #marker = new LocalChangeMarker(async () => {
    try {
      return readFileSync(join(this.#dir, CHANGES_DIR, MARKER_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new KeyStoreUnavailableError('io', 'changes', undefined, { cause: err, detail: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
    }
  });
  readonly changes: ChangeMarker = this.#marker;
  readonly #dir: string;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #inProcess = new Map<string, Promise<unknown>>();
  /** Per lock name: until when this store leaves the lock to the waiter it ended a section for (see #leaveToWaiter). */
  readonly #handovers = new Map<string, number>();

  constructor(dir: string, options: FileKeyStoreOptions = {}) {
    this.#dir = dir;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
    this.#staleLockMs = options.staleLockMs ?? STALE_LOCK_MS;
    if (!(this.#staleLockMs > 0 && this.#staleLockMs < this.#lockTimeoutMs)) {
      throw new RangeError(`staleLockMs (${this.#staleLockMs}) must be positive and shorter than lockTimeoutMs (${this.#lockTimeoutMs})`);
    }
  }

  /** The store on `dir`, once what crashed writers left there is removed (see removeStaleTemporaryFiles). */
  static async open(dir: string, options?: FileKeyStoreOptions): Promise<FileKeyStore> {
    const store = new FileKeyStore(dir, options);
    // Housekeeping only: a disk that refuses it (read-only, say) may still serve reads, and what is
    // left is removed at a later start.
    await store.removeStaleTemporaryFiles().catch(() => undefined);
    return store;
  }

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    if (!options.writeOnce) return this.#marker.write(() => this.#create(name, value, options));
    return this.#create(name, value, options);
  }

  #create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return translateIoError('create', name, async () => {
      const path = await this.#pathOf(name);
      const tmp = await writeTemporaryFile(
        path.dir,
        JSON.stringify({ revision: 1, writeOnce: options.writeOnce, value: Buffer.from(value).toString('base64') } satisfies EntryFile),
      );
      try {
        await link(tmp, path.file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EntryExistsError(name);
        throw err;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      await fsyncDirectory(path.dir);
      if (!options.writeOnce) await this.#moveChangeMarker();
    });
  }

  get(name: string): Promise<StoredEntry | undefined> {
    return translateIoError('get', name, () => this.#read(name));
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#marker.write(() => this.#update(name, expectedRevision, value));
  }

  #update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return translateIoError('update', name, async () => {
      const path = await this.#pathOf(name);
      const revision = await this.#withLock('update', name, async (assertStillHeld) => {
        const current = await this.#read(name);
        if (!current) throw new EntryNotFoundError(name);
        if (current.writeOnce) throw new WriteOnceViolationError(name);
        if (current.revision !== expectedRevision) throw new RevisionConflictError(name);
        const revision = current.revision + 1;
        const tmp = await writeTemporaryFile(
          path.dir,
          JSON.stringify({ revision, writeOnce: false, value: Buffer.from(value).toString('base64') } satisfies EntryFile),
        );
        try {
          await assertStillHeld();
          await rename(tmp, path.file);
        } catch (err) {
          await unlink(tmp).catch(() => undefined);
          throw err;
        }
        await fsyncDirectory(path.dir);
        return revision;
      });
      await this.#moveChangeMarker();
      return revision;
    });
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#marker.write(() => this.#delete(name, expectedRevision));
  }

  #delete(name: string, expectedRevision: number): Promise<void> {
    return translateIoError('delete', name, async () => {
      const path = await this.#pathOf(name);
      await this.#withLock('delete', name, async (assertStillHeld) => {
        const current = await this.#read(name);
        if (!current) throw new EntryNotFoundError(name);
        if (current.writeOnce) throw new WriteOnceViolationError(name);
        if (current.revision !== expectedRevision) throw new RevisionConflictError(name);
        await assertStillHeld();
        await unlink(path.file);
        await fsyncDirectory(path.dir);
      });
      await this.#moveChangeMarker();
    });
  }

  destroy(name: string): Promise<void> {
    return translateIoError('destroy', name, async () => {
      const path = await this.#pathOf(name);
      await this.#withLock('destroy', name, async (assertStillHeld) => {
        const current = await this.#read(name);
        if (!current) return;
        if (!current.writeOnce) throw new WriteOnceViolationError(name);
        await assertStillHeld();
        // Overwrite in place before unlinking, so the material is not left in freed blocks as-is.
        const handle = await open(path.file, constants.O_WRONLY);
        await closeAfter(handle, async () => {
          const { size } = await handle.stat();
          await handle.write(Buffer.alloc(size), 0, size, 0);
          await handle.sync();
        });
        await unlink(path.file);
        await fsyncDirectory(path.dir);
      });
    });
  }

  /**
   * See {@link ReencodableStore}: under the entry's lock, the new bytes are written to a temporary
   * file and moved into place (revision and write-once flag kept); the old file is kept under a
   * second name until then, and overwritten with zeros only once the new one is in place, so a
   * crash leaves the value in one form or the other, never neither.
   */
  reencode(name: string, reencode: (stored: Buffer) => Buffer | undefined): Promise<void> {
    return translateIoError('reencode', name, async () => {
      const path = await this.#pathOf(name);
      await this.#withLock('reencode', name, async (assertStillHeld) => {
        const current = await this.#read(name);
        const value = current && reencode(current.value);
        if (!current || !value) return;
        const tmp = await writeTemporaryFile(
          path.dir,
          JSON.stringify({ revision: current.revision, writeOnce: current.writeOnce, value: value.toString('base64') } satisfies EntryFile),
        );
        const old = join(path.dir, `.tmp-${randomUUID()}-old`);
        try {
          await assertStillHeld();
          await link(path.file, old);
          await rename(tmp, path.file);
        } catch (err) {
          await unlink(tmp).catch(() => undefined);
          await unlink(old).catch(() => undefined);
          throw err;
        }
        await fsyncDirectory(path.dir);
        const handle = await open(old, constants.O_WRONLY);
        await closeAfter(handle, async () => {
          const { size } = await handle.stat();
          await handle.write(Buffer.alloc(size), 0, size, 0);
          await handle.sync();
        });
        await unlink(old);
      });
    });
  }

  /**
   * Runs `work` holding the cross-process lock of `name` (the lock every writer of that entry takes
   * on this directory), for state kept beside the store that must change one process at a time (the
   * shared nonce journal). Throws KeyStoreUnavailableError `busy` when the lock is not obtained.
   *
   * `contended()` is true once another process (or store) waits for the lock: a `work` that would
   * go on with more (the journal's next batch) should return instead. This store then leaves the
   * lock to that waiter before taking it again, so a busy holder cannot starve it.
   */
  exclusive<T>(name: string, work: (contended: () => boolean) => Promise<T>): Promise<T> {
    return translateIoError('lock', name, () => this.#withLock('lock', name, (_assertStillHeld, contended) => work(contended)));
  }

  list(prefix: string): Promise<string[]> {
    return translateIoError('list', undefined, async () => {
      const slash = prefix.indexOf('/');
      const namespaces = slash === -1 ? await this.#readdir(this.#dir) : [prefix.slice(0, slash)];
      const names: string[] = [];
      for (const ns of namespaces) {
        if (ns.startsWith('.')) continue;
        for (const file of await this.#readdir(join(this.#dir, ns))) {
          if (file.startsWith('.')) continue;
          const name = `${ns}/${file.replaceAll('!', '/')}`;
          if (name.startsWith(prefix)) names.push(name);
        }
      }
      return names.sort();
    });
  }

  /**
   * Removes what writers that died left behind: `.tmp-*` files older than `maxAgeMs` in every
   * namespace, `.break` locks older than the stale-lock age, and waiters' `.waiting` announcements
   * that are no longer fresh. Age-based, so a writer of another
   * process on the same directory never loses a temporary file it is still writing.
   */
  removeStaleTemporaryFiles(maxAgeMs = STALE_TEMPORARY_FILE_MS): Promise<void> {
    return translateIoError('removeStaleTemporaryFiles', undefined, async () => {
      for (const ns of await this.#readdir(this.#dir)) {
        if (ns.startsWith('.')) continue;
        const dir = join(this.#dir, ns);
        await removeOlderThan(
          dir,
          (await this.#readdir(dir)).filter((f) => f.startsWith('.tmp-')),
          maxAgeMs,
        );
      }
      const changes = join(this.#dir, CHANGES_DIR);
      await removeOlderThan(
        changes,
        (await this.#readdir(changes)).filter((f) => f.startsWith('.tmp-')),
        maxAgeMs,
      );
      const locks = join(this.#dir, '.locks');
      const lockFiles = await this.#readdir(locks);
      await removeOlderThan(
        locks,
        lockFiles.filter((f) => f.endsWith('.break')),
        this.#staleLockMs,
      );
      // Announcements no waiter keeps fresh, however they are dated (see isFreshAnnouncement).
      for (const file of lockFiles.filter((f) => f.endsWith('.waiting'))) {
        const seen = await stat(join(locks, file)).catch(ignoreMissing);
        if (seen && !isFreshAnnouncement(seen.mtimeMs)) await unlink(join(locks, file)).catch(ignoreMissing);
      }
    });
  }

  /**
   * Moves the change marker to a new random token, durably: after the entry's write, before the
   * write returns. No lock: writers that race each put a token no reader has seen, and whichever
   * lands last differs from every token read before either. The entry has landed by then, so a
   * failed move is tried again (a disk that refused for a moment) before the write is reported
   * unavailable.
   */
  async #moveChangeMarker(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#writeChangeMarker();
      } catch (err) {
        if (attempt >= MARKER_MOVE_ATTEMPTS) throw err;
        await sleep(MARKER_MOVE_BACKOFF_MS * 4 ** (attempt - 1));
      }
    }
  }

  async #writeChangeMarker(): Promise<void> {
    const dir = join(this.#dir, CHANGES_DIR);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = await writeTemporaryFile(dir, randomBytes(16).toString('hex'));
    try {
      await rename(tmp, join(dir, MARKER_FILE));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fsyncDirectory(dir);
  }

  async #read(name: string): Promise<StoredEntry | undefined> {
    const path = await this.#pathOf(name, false);
    const text = await readFile(path.file, 'utf8').catch(ignoreMissing);
    if (text === undefined) return undefined;
    let entry: EntryFile;
    try {
      entry = JSON.parse(text) as EntryFile;
    } catch {
      // Not wrapped: V8's parse message quotes the text, which may hold key material.
      throw new Error(`the stored entry "${name}" is not valid JSON`);
    }
    return { value: Buffer.from(entry.value, 'base64'), revision: entry.revision, writeOnce: entry.writeOnce };
  }

  async #readdir(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw err;
    }
  }

  async #pathOf(name: string, ensureDir = true): Promise<{ dir: string; file: string }> {
    assertEntryName(name);
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) throw new Error(`entry name "${name}" needs a namespace`);
    const rest = name.slice(slash + 1).replaceAll('/', '!');
    if (rest.length > 255 || rest.startsWith('.')) throw new Error(`entry name "${name}" cannot be stored as a file`);
    const dir = join(this.#dir, name.slice(0, slash));
    if (ensureDir) await mkdir(dir, { recursive: true, mode: 0o700 });
    return { dir, file: join(dir, rest) };
  }

  /**
   * Serialises writers of one entry: in-process through a promise chain, across processes through a
   * lock file. The wait timeout counts from the call, so a queue in this process does not extend it.
   * `work` calls `assertStillHeld` just before the step that commits its write (see FileLock).
   */
  async #withLock<T>(operation: string, name: string, work: (assertStillHeld: () => Promise<void>, contended: () => boolean) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#lockTimeoutMs;
    const previous = this.#inProcess.get(name) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const lock = await this.#acquireFileLock(operation, name, deadline);
        try {
          return await work(lock.assertStillHeld, lock.contended);
        } finally {
          await lock.release();
        }
      });
    this.#inProcess.set(name, run);
    try {
      return await run;
    } finally {
      if (this.#inProcess.get(name) === run) this.#inProcess.delete(name);
    }
  }

  /**
   * Takes the cross-process lock of an entry: a lock file created exclusively, recording its
   * holder ({@link LockHolder}). A lock is broken (see breakAbandonedLock) as soon as its holder is
   * known to be done with it: a holder on this machine that exited, or this very process when the
   * lock's token is not one it holds (its release failed). When the holder cannot be checked (another
   * host, no holder recorded), once the lock file's mtime, which a holder refreshes while it holds
   * the lock, is older than the stale-lock age. A live holder is never broken: past the deadline the
   * waiter gives up with `busy`.
   */
  async #acquireFileLock(operation: string, name: string, deadline: number): Promise<FileLock> {
    const locks = join(this.#dir, '.locks');
    const lock = join(locks, createHash('sha256').update(name).digest('hex'));
    await this.#leaveToWaiter(name, lock);
    const token = randomBytes(16).toString('hex');
    const record = JSON.stringify({ token, ...(await thisProcess()) } satisfies LockHolder);
    // Before the file exists: another store of this process that reads it must take it as held.
    heldLockTokens.add(token);
    try {
      for (let attempt = 0; ; attempt++) {
        const fd = createLockFile(locks, lock, record);
        if (fd !== undefined) {
          if (attempt > 0) withdrawWaiter(lock, token);
          return this.#holdFileLock(operation, name, lock, token, record, fd);
        }
        const seen = await stat(lock).catch(ignoreMissing);
        const text = seen && (await readFile(lock, 'utf8').catch(ignoreMissing));
        // Gone since the attempt (released or broken): try again at once.
        if (seen === undefined || text === undefined) continue;
        if ((await this.#isAbandoned(text, seen.mtimeMs)) && (await breakAbandonedLock(lock, seen, text, this.#staleLockMs))) continue;
        if (Date.now() > deadline) throw new KeyStoreUnavailableError('busy', operation, name);
        announceWaiter(lock, token);
        const pause = Math.min(2 ** attempt, ANNOUNCED_PAUSE_MS);
        await sleep(pause + Math.random() * pause);
      }
    } catch (err) {
      heldLockTokens.delete(token);
      withdrawWaiter(lock, token);
      throw err;
    }
  }

  /**
   * Right after this store ended a section of `name` for a waiter (see exclusive): lets the waiter
   * take the lock first, for {@link HANDOVER_MS} at most, and less once it took it or stopped waiting.
   */
  async #leaveToWaiter(name: string, lock: string): Promise<void> {
    const until = this.#handovers.get(name);
    if (until === undefined) return;
    this.#handovers.delete(name);
    // A monotonic clock: a wall clock stepped back must not stretch the wait.
    while (performance.now() < until && !existsSync(lock) && waiterAnnounced(lock)) await sleep(1);
  }

  /**
   * The lock just created in `lock` (its file open as `handle`): heartbeats until released, so a
   * waiter that judges it by age never takes it for abandoned while it is held.
   */
  #holdFileLock(operation: string, name: string, lock: string, token: string, record: string, fd: number): FileLock {
    let beating: Promise<void> | undefined;
    let closed = false;
    // On the open file, not the path: never refreshes a lock that replaced this one. Never after
    // the close either: the descriptor's number may by then name another file.
    const refresh = () =>
      new Promise<void>((resolve, reject) => {
        if (closed) return resolve();
        const now = new Date();
        futimes(fd, now, now, (err) => (err ? reject(err) : resolve()));
      });
    const heartbeat = setInterval(
      () => {
        beating ??= refresh()
          .catch(() => undefined)
          .finally(() => (beating = undefined));
      },
      Math.max(1, Math.floor(this.#staleLockMs / 5)),
    );
    heartbeat.unref();
    const staleLockMs = this.#staleLockMs;
    const handovers = this.#handovers;
    let yielding = false;
    return {
      contended() {
        yielding ||= waiterAnnounced(lock);
        return yielding;
      },
      async assertStillHeld() {
        // Fresh first, so that a breaker must see it unchanged for a whole stale-lock age from now.
        await refresh().catch(() => undefined);
        const held = await readFile(lock, 'utf8').catch(ignoreMissing);
        if (held !== record) {
          throw new KeyStoreUnavailableError('busy', operation, name, { detail: 'the entry lock was broken while it was held; nothing was written' });
        }
      },
      async release() {
        clearInterval(heartbeat);
        await beating;
        closed = true;
        try {
          closeSync(fd);
        } catch {
          // Closed or not, the lock file is removed below.
        }
        // Best effort: the work's outcome is what the caller must learn, not a failed release.
        let released = false;
        for (let attempt = 0; attempt < RELEASE_ATTEMPTS && !released; attempt++) {
          if (attempt > 0) await sleep(RELEASE_BACKOFF_MS * 4 ** (attempt - 1));
          released = await removeOwnLock(lock, record).then(
            () => true,
            () => false,
          );
        }
        // Not held any more, even if its file stays: this process then breaks it at its next write.
        heldLockTokens.delete(token);
        if (yielding) handovers.set(name, performance.now() + HANDOVER_MS);
        if (!released) scheduleLateRelease(lock, record, staleLockMs, 0);
      },
    };
  }

  async #isAbandoned(text: string, mtimeMs: number): Promise<boolean> {
    const holder = parseLockHolder(text);
    const self = await thisProcess();
    if (holder && isSameMachine(holder, self)) {
      if (isThisProcess(holder, self)) return !heldLockTokens.has(holder.token);
      return hasExited(holder);
    }
    return Date.now() - mtimeMs > this.#staleLockMs;
  }
}

/** An entry lock held by this process. */
interface FileLock {
  /** True once another process (or store) announced that it waits for this lock; stays true. */
  contended(): boolean;
  /**
   * Resolves when the lock file still holds this lock's token (refreshing its mtime first); rejects
   * with KeyStoreUnavailableError `busy` when it was broken, so that the write is not committed.
   */
  assertStillHeld(): Promise<void>;
  /** Removes the lock file if it still holds this lock's token; never rejects. */
  release(): Promise<void>;
}

/** Tells the holder of `lock` that `token` waits for it (see WAITING_FRESH_MS); best effort. */
function announceWaiter(lock: string, token: string): void {
  try {
    writeFileSync(`${lock}.waiting`, token, { mode: 0o600 });
  } catch {
    // Unannounced, the waiter still gets the lock when the holder's section ends by itself.
  }
}

/** Removes the announcement of `token`, now that it holds the lock (another waiter's stays); best effort. */
function withdrawWaiter(lock: string, token: string): void {
  try {
    if (readFileSync(`${lock}.waiting`, 'utf8') === token) unlinkSync(`${lock}.waiting`);
  } catch {
    // Gone already, or left to age (WAITING_FRESH_MS).
  }
}

/** Whether a waiter announced itself for `lock` recently (see WAITING_FRESH_MS). */
function waiterAnnounced(lock: string): boolean {
  try {
    const seen = statSync(`${lock}.waiting`, { throwIfNoEntry: false });
    return seen !== undefined && isFreshAnnouncement(seen.mtimeMs);
  } catch {
    return false;
  }
}

/** Within WAITING_FRESH_MS of now either way: an announcement dated ahead (the clock stepped back since) is not fresh for ever. */
function isFreshAnnouncement(mtimeMs: number): boolean {
  return Math.abs(Date.now() - mtimeMs) < WAITING_FRESH_MS;
}

/** Removes the lock file if it still holds `record` (else it was broken, and maybe taken by another writer). */
async function removeOwnLock(lock: string, record: string): Promise<void> {
  // Synchronous, as createLockFile: a release must not wait behind the requests of a busy loop.
  let held: string | undefined;
  try {
    held = readFileSync(lock, 'utf8');
  } catch (err) {
    ignoreMissing(err);
  }
  if (held !== record) return;
  try {
    unlinkSync(lock);
  } catch (err) {
    ignoreMissing(err);
  }
}

/**
 * Tries again, in the background, to remove a lock whose release failed (unref'd: it never keeps
 * the process alive). Through breakAbandonedLock, as this process no longer holds it and may break
 * it concurrently.
 */
function scheduleLateRelease(lock: string, record: string, staleLockMs: number, attempt: number): void {
  if (attempt >= LATE_RELEASE_ATTEMPTS) return;
  const retry = async () => {
    const seen = await stat(lock).catch(ignoreMissing);
    const text = seen && (await readFile(lock, 'utf8').catch(ignoreMissing));
    // Removed or replaced since: nothing of ours is left.
    if (seen === undefined || text !== record) return;
    if (!(await breakAbandonedLock(lock, seen, text, staleLockMs))) throw new Error('the lock is being broken by another writer');
  };
  const timer = setTimeout(
    () => {
      retry().catch(() => scheduleLateRelease(lock, record, staleLockMs, attempt + 1));
    },
    (staleLockMs / 2) * 2 ** attempt,
  );
  timer.unref();
}

/** Runs `work`, turning an fs error that means "the disk cannot serve now" into KeyStoreUnavailableError `io`. */
async function translateIoError<T>(operation: string, entry: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const code = unavailableIoCode(err);
    if (code) throw new KeyStoreUnavailableError('io', operation, entry, { cause: err, detail: code });
    throw err;
  }
}

async function removeOlderThan(dir: string, files: string[], maxAgeMs: number): Promise<void> {
  for (const file of files) {
    const path = join(dir, file);
    const seen = await stat(path).catch(ignoreMissing);
    if (seen && Date.now() - seen.mtimeMs > maxAgeMs) await unlink(path).catch(ignoreMissing);
  }
}

/**
 * Who holds an entry lock, as its lock file records it. `bootId`, `pidNamespace` and `startTime`
 * (Linux, from /proc) tell this boot, this pid namespace and this very process apart, so that a pid
 * reused after a crash is not mistaken for the holder; without /proc only the pid is known.
 * `threadId` tells the worker threads of one process apart (each has its own held tokens).
 */
interface LockHolder {
  token: string;
  host: string;
  pid: number;
  threadId?: number;
  bootId?: string;
  pidNamespace?: string;
  startTime?: string;
}

let thisProcessIdentity: Promise<Omit<LockHolder, 'token'>> | undefined;

function thisProcess(): Promise<Omit<LockHolder, 'token'>> {
  thisProcessIdentity ??= (async () => {
    const [bootId, pidNamespace, status] = await Promise.all([
      readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
        (id) => id.trim(),
        () => undefined,
      ),
      readlink('/proc/self/ns/pid').catch(() => undefined),
      processStatus(process.pid),
    ]);
    return { host: hostname(), pid: process.pid, threadId, bootId, pidNamespace, startTime: status?.startTime };
  })();
  return thisProcessIdentity;
}

/** The holder recorded in a lock file, or undefined when it records none (empty, cut short, foreign). */
function parseLockHolder(text: string): LockHolder | undefined {
  let holder: Partial<Record<keyof LockHolder, unknown>>;
  try {
    holder = JSON.parse(text) as typeof holder;
  } catch {
    return undefined;
  }
  if (typeof holder !== 'object' || holder === null) return undefined;
  const { token, host, pid, threadId: thread, bootId, pidNamespace, startTime } = holder;
  const optional =
    [bootId, pidNamespace, startTime].every((v) => v === undefined || typeof v === 'string') && (thread === undefined || Number.isSafeInteger(thread));
  if (typeof token !== 'string' || typeof host !== 'string' || !Number.isSafeInteger(pid) || (pid as number) <= 0 || !optional) return undefined;
  return holder as LockHolder;
}

/**
 * Whether the holder's pid means a process this one can check: same host name, boot and pid
 * namespace (a NAS shared with other hosts, or a container with its own pids, cannot be checked).
 */
function isSameMachine(holder: LockHolder, self: Omit<LockHolder, 'token'>): boolean {
  return holder.host === self.host && holder.bootId === self.bootId && holder.pidNamespace === self.pidNamespace;
}

/** Whether a holder on this machine is this very process (and thread), not a process that had its pid before. */
function isThisProcess(holder: LockHolder, self: Omit<LockHolder, 'token'>): boolean {
  return holder.pid === self.pid && holder.startTime === self.startTime && holder.threadId === self.threadId;
}

/** True only when the holder provably no longer runs; anything uncertain counts as alive. */
async function hasExited(holder: LockHolder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the process exists, as another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  if (holder.startTime === undefined) return false;
  const status = await processStatus(holder.pid);
  if (!status) return false;
  // A zombie still answers kill(0) but holds nothing; another start time is another process on a reused pid.
  return status.state === 'Z' || status.state === 'X' || status.startTime !== holder.startTime;
}

/** State (field 3) and start time (field 22) of /proc/<pid>/stat, or undefined where /proc cannot tell. */
async function processStatus(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
  const fields = text?.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields?.[0];
  const startTime = fields?.[19];
  return state && startTime ? { state, startTime } : undefined;
}

/**
 * Creates the lock file exclusively with `record` in it (and the locks directory `locks` when it is
 * missing), and returns it still open (for the heartbeat); undefined when another writer holds it.
 *
 * Synchronous on purpose: these are a few small metadata calls on a local disk, and the nonce
 * journal takes this lock for every batch of requests. Asynchronous calls would each wait for a
 * turn of an event loop busy with other requests (measured: 18 ms per batch at 64 connections
 * against under 1 ms idle), and every request of the batch waits with them. The price: on a
 * network file system whose server stops answering, the process stalls for as long as the call
 * hangs (docs/operations.md says so under Faults and recovery).
 */
function createLockFile(locks: string, lock: string, record: string, madeLocks = false): number | undefined {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'ENOENT' || madeLocks) throw err;
    mkdirSync(locks, { recursive: true, mode: 0o700 });
    return createLockFile(locks, lock, record, true);
  }
  try {
    const bytes = Buffer.from(record);
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // A close may report the failed write again (NFS); the file is removed all the same.
    }
    try {
      // Ours alone (created exclusively): an empty lock would otherwise stall writers until it ages.
      unlinkSync(lock);
    } catch {
      // Nothing more to undo.
    }
    throw err;
  }
  return fd;
}

/**
 * Removes an abandoned lock without ever removing another: breakers take a second, short-lived
 * lock (`<lock>.break`, created exclusively), look at the lock again under it, and unlink it only
 * if it is still the very file judged abandoned (same inode, mtime and content: inodes are reused,
 * the holder's token is not). A breaker that died holding `.break` leaves it for `staleLockMs` at
 * most. True when the lock was removed here.
 */
async function breakAbandonedLock(lock: string, seen: { ino: number; mtimeMs: number }, text: string, staleLockMs: number): Promise<boolean> {
  const breaker = `${lock}.break`;
  let handle: FileHandle;
  try {
    handle = await open(breaker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await stat(breaker).catch(ignoreMissing);
    if (other && Date.now() - other.mtimeMs > staleLockMs) await unlink(breaker).catch(ignoreMissing);
    return false;
  }
  try {
    const now = await stat(lock).catch(ignoreMissing);
    if (!now || now.ino !== seen.ino || now.mtimeMs !== seen.mtimeMs) return false;
    if ((await readFile(lock, 'utf8').catch(ignoreMissing)) !== text) return false;
    await unlink(lock).catch(ignoreMissing);
    return true;
  } finally {
    await handle.close();
    await unlink(breaker).catch(ignoreMissing);
  }
}

/** For `.catch`: a file that is not there is `undefined`; any other failure propagates. */
function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
  throw err;
}
