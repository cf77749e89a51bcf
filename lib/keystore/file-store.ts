import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertEntryName,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from './key-store.js';

/** How long a writer waits for another writer's lock before giving up. */
const LOCK_TIMEOUT_MS = 10_000;
/** A lock older than this belongs to a writer that died; it is broken. */
const STALE_LOCK_MS = 30_000;

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
 * `update` holds a lock file (shared by every process on the directory) across read–compare–write.
 */
export class FileKeyStore implements KeyStore {
  readonly #dir: string;
  readonly #inProcess = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    const path = await this.#pathOf(name);
    const tmp = await this.#writeTemp(path.dir, { revision: 1, writeOnce: options.writeOnce, value: Buffer.from(value).toString('base64') });
    try {
      await link(tmp, path.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EntryExistsError(name);
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await fsyncDir(path.dir);
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const path = await this.#pathOf(name, false);
    let text: string;
    try {
      text = await readFile(path.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let entry: EntryFile;
    try {
      entry = JSON.parse(text) as EntryFile;
    } catch {
      // Not wrapped: V8's parse message quotes the text, which may hold key material.
      throw new Error(`the stored entry "${name}" is not valid JSON`);
    }
    return { value: Buffer.from(entry.value, 'base64'), revision: entry.revision, writeOnce: entry.writeOnce };
  }

  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    const path = await this.#pathOf(name);
    return this.#withLock(name, async () => {
      const current = await this.get(name);
      if (!current) throw new EntryNotFoundError(name);
      if (current.writeOnce) throw new WriteOnceViolationError(name);
      if (current.revision !== expectedRevision) throw new RevisionConflictError(name);
      const revision = current.revision + 1;
      const tmp = await this.#writeTemp(path.dir, { revision, writeOnce: false, value: Buffer.from(value).toString('base64') });
      await rename(tmp, path.file);
      await fsyncDir(path.dir);
      return revision;
    });
  }

  async delete(name: string, expectedRevision: number): Promise<void> {
    const path = await this.#pathOf(name);
    await this.#withLock(name, async () => {
      const current = await this.get(name);
      if (!current) throw new EntryNotFoundError(name);
      if (current.writeOnce) throw new WriteOnceViolationError(name);
      if (current.revision !== expectedRevision) throw new RevisionConflictError(name);
      await unlink(path.file);
      await fsyncDir(path.dir);
    });
  }

  async destroy(name: string): Promise<void> {
    const path = await this.#pathOf(name);
    await this.#withLock(name, async () => {
      const current = await this.get(name);
      if (!current) return;
      if (!current.writeOnce) throw new WriteOnceViolationError(name);
      // Overwrite in place before unlinking, so the material is not left in freed blocks as-is.
      const handle = await open(path.file, constants.O_WRONLY);
      try {
        const { size } = await handle.stat();
        await handle.write(Buffer.alloc(size), 0, size, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await unlink(path.file);
      await fsyncDir(path.dir);
    });
  }

  async list(prefix: string): Promise<string[]> {
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

  async #writeTemp(dir: string, entry: EntryFile): Promise<string> {
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(JSON.stringify(entry));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  }

  /** Serialises writers of one entry: in-process through a promise chain, across processes through a lock file. */
  async #withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#inProcess.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const release = await this.#acquireFileLock(name);
      try {
        return await work();
      } finally {
        await release();
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
   * Takes the cross-process lock of an entry: a lock file created exclusively, holding a random
   * token. A lock older than {@link STALE_LOCK_MS} belongs to a writer that died and is broken
   * (see breakStaleLock). Release removes the lock only while it still holds this writer's token.
   */
  async #acquireFileLock(name: string): Promise<() => Promise<void>> {
    const locks = join(this.#dir, '.locks');
    await mkdir(locks, { recursive: true, mode: 0o700 });
    const lock = join(locks, createHash('sha256').update(name).digest('hex'));
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        try {
          await handle.writeFile(token);
        } finally {
          await handle.close();
        }
        return async () => {
          const held = await readFile(lock, 'utf8').catch(() => undefined);
          if (held === token) await unlink(lock).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = await stat(lock).catch(() => undefined);
      if (seen && Date.now() - seen.mtimeMs > STALE_LOCK_MS) {
        await breakStaleLock(lock, seen);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock on "${name}"`);
      await sleep(Math.min(2 ** attempt, 50) + Math.random() * 5);
    }
  }
}

/**
 * Removes a stale lock without ever removing a fresh one: breakers take a second, short-lived lock
 * (`<lock>.break`, created exclusively), look at the lock again under it, and unlink it only if it
 * is still the very file seen stale (same inode and mtime). A breaker that died holding `.break`
 * leaves it for {@link STALE_LOCK_MS} at most.
 */
async function breakStaleLock(lock: string, seen: { ino: number; mtimeMs: number }): Promise<void> {
  const breaker = `${lock}.break`;
  let handle;
  try {
    handle = await open(breaker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await stat(breaker).catch(() => undefined);
    if (other && Date.now() - other.mtimeMs > STALE_LOCK_MS) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    const now = await stat(lock).catch(() => undefined);
    if (now && now.ino === seen.ino && now.mtimeMs === seen.mtimeMs) await unlink(lock).catch(() => undefined);
  } finally {
    await handle.close();
    await unlink(breaker).catch(() => undefined);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
