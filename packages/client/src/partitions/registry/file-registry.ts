import { link, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { entryFileName, type PartitionEntry, partitionEntrySchema, partitionIdOfFileName } from '../entry.js';
import { InvalidPartitionEventError, InvalidRegistryEntryError, PartitionKeysError, RegistryUnavailableError } from '../errors.js';
import { fsyncDirectory, unavailableIoCode, writeTemporaryFile } from '../../internal/durable-files.js';
import type { PartitionRegistry } from './registry.js';

/**
 * A {@link PartitionRegistry} on a directory: one JSON file per partition, named
 * `entryFileName(partitionId)` (so `/` makes no subdirectory and `.`/`..` are ordinary names).
 * Files are 0600; the directory is created 0700 on the first write.
 *
 * **create** writes the entry to a temporary file (`.tmp-*`, exclusive, fsynced), then `link(2)`s
 * it to the entry's name: link fails with EEXIST when the name exists, so of concurrent creators
 * (threads or processes on the same directory) exactly one wins and an entry is never replaced.
 * The temporary file is removed whatever happened and the directory fsynced, also for `existing`
 * (the entry we report may be another writer's that is not durable yet).
 *
 * **get** reads and validates the file ({@link InvalidRegistryEntryError} when it is not a valid
 * entry of that partition, without echoing the file); a missing file or directory is `undefined`.
 * **list** decodes the directory's file names, skipping every name no entry has (temporary files,
 * strangers); a missing directory lists as empty.
 *
 * **Failures**: a disk that refuses (UNAVAILABLE_IO_CODES in internal/durable-files.ts) is {@link RegistryUnavailableError}
 * with the fs error as `cause`; every other error keeps its meaning. A partition id whose encoded
 * name is longer than the file system allows (ids with many characters to encode; about 80 or
 * more) cannot be stored here: create throws {@link InvalidPartitionEventError}, get finds nothing.
 * A writer that crashed between its temporary file and the link leaves a `.tmp-*` file behind,
 * which nothing reads; it can be deleted at any time.
 */
export class FileRegistry implements PartitionRegistry {
  readonly url: string;
  /** The registry's directory, absolute. */
  readonly dir: string;

  /** `url` is what messages name (default `file:<dir>`); `dir` is resolved against the cwd. */
  constructor(dir: string, options: { url?: string } = {}) {
    this.dir = resolve(dir);
    this.url = options.url ?? `file:${dir}`;
  }

  /** See {@link PartitionRegistry.create}. Throws RegistryUnavailableError; an entry that is not valid throws InvalidPartitionEventError (nothing written). */
  async create(entry: PartitionEntry): Promise<'created' | 'existing'> {
    const text = serializeEntry(entry);
    return this.#io('create', entry.partitionId, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const file = join(this.dir, entryFileName(entry.partitionId));
      const tmp = await writeTemporaryFile(this.dir, text);
      let outcome: 'created' | 'existing';
      try {
        await link(tmp, file);
        outcome = 'created';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        outcome = 'existing';
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      await fsyncDirectory(this.dir);
      return outcome;
    });
  }

  /** See {@link PartitionRegistry.get}. Throws RegistryUnavailableError, InvalidRegistryEntryError. */
  get(partitionId: string): Promise<PartitionEntry | undefined> {
    return this.#io('get', partitionId, async () => {
      let text: string;
      try {
        text = await readFile(join(this.dir, entryFileName(partitionId)), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return parseStoredEntry(text, partitionId, this.url);
    });
  }

  /** See {@link PartitionRegistry.list}. Throws RegistryUnavailableError. */
  list(): Promise<string[]> {
    return this.#io('list', undefined, async () => {
      let names: string[];
      try {
        names = await readdir(this.dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return idsOfNames(names);
    });
  }

  /** Runs `work`, turning an fs error that means "the disk cannot serve now" into RegistryUnavailableError. */
  async #io<T>(operation: string, partitionId: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const code = unavailableIoCode(err);
      if (!(err instanceof PartitionKeysError) && code) {
        throw new RegistryUnavailableError(`${describeOperation(this.url, operation, partitionId)} failed: the disk refused (${code})`, { cause: err });
      }
      throw err;
    }
  }
}

// ---- shared by every backend (entries are the same JSON wherever they are stored) ----

/**
 * The JSON a registry stores for `entry`, once it is checked: an entry can never be overwritten,
 * so one that is not valid would make its partition unusable for good. Throws
 * {@link InvalidPartitionEventError} naming the fields at fault (never their values).
 */
export function serializeEntry(entry: PartitionEntry): string {
  const result = partitionEntrySchema.safeParse(entry);
  if (!result.success) {
    throw new InvalidPartitionEventError(`the registry entry is not valid (${describeIssues(result.error.issues)})`);
  }
  return JSON.stringify(result.data);
}

/**
 * The entry stored as `text` under `partitionId`'s name. Throws {@link InvalidRegistryEntryError}
 * when it is not JSON, not a valid entry, or the entry of another partition; the message names
 * fields, never the stored text (it may hold anything, key material included).
 */
export function parseStoredEntry(text: string, partitionId: string, registryUrl: string): PartitionEntry {
  const where = `the registry entry of partition "${partitionId}" in ${registryUrl}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not wrapped: V8's parse message quotes the text.
    throw new InvalidRegistryEntryError(`${where} is not valid JSON`);
  }
  const result = partitionEntrySchema.safeParse(json);
  if (!result.success) throw new InvalidRegistryEntryError(`${where} is not a valid entry (${describeIssues(result.error.issues)})`);
  // Copied or renamed from another partition's: its data key is bound to that partition.
  if (result.data.partitionId !== partitionId) throw new InvalidRegistryEntryError(`${where} is the entry of another partition`);
  return result.data;
}

/** The partition ids of entry names (file names, object keys without the prefix), in byte order; other names are skipped. */
export function idsOfNames(names: Iterable<string>): string[] {
  const ids = new Set<string>();
  for (const name of names) {
    const id = partitionIdOfFileName(name);
    if (id !== undefined) ids.add(id);
  }
  // Ids are ASCII, so UTF-16 order is byte order.
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `prefix` ending with `/` unless it is empty (object-store backends: a prefix is a folder). */
export function normalisePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** `registry <url>: <operation> of partition "<id>"`, the start of every failure message. */
export function describeOperation(registryUrl: string, operation: string, partitionId: string | undefined): string {
  return `registry ${registryUrl}: ${operation}${partitionId === undefined ? '' : ` of partition "${partitionId}"`}`;
}

function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; code: string }>): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || 'entry'}: ${issue.code}`).join('; ');
}
