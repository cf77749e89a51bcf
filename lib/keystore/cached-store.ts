import { InternalFailureError, ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KeyStore, StoredEntry } from './key-store.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError, KeyStoreUnavailableError } from './store-errors.js';

export interface CachedKeyStoreOptions {
  /** How long a mutable entry (key metadata, alias, access key) read from the store is trusted. */
  ttlMs: number;
  /** How long a write-once entry (key-version material, version index) is trusted; it never changes. */
  writeOnceTtlMs: number;
  /**
   * While the store is unavailable, how long past its TTL a cached entry may still be served.
   * Bounds how long the data plane keeps answering from memory during an outage.
   */
  staleForMs: number;
  /** Entries kept at most (least recently used leave first; their buffers are zeroed). Default 10 000. */
  maxEntries?: number;
  now?: () => number;
  logger?: Logger;
}

/** Declared once; lib/keystore/secrets-manager/config.ts exposes `ttlMs` and `staleForMs` as KMS_STORE_CACHE_TTL_MS and KMS_STORE_STALE_FOR_MS. */
export const CACHED_STORE_DEFAULTS = {
  ttlMs: 5_000,
  writeOnceTtlMs: 3_600_000,
  staleForMs: 300_000,
  maxEntries: 10_000,
} as const;

interface Slot {
  entry: StoredEntry;
  /** Trusted until then. */
  expiresAt: number;
  /** Whether serving it stale has been logged (once per outage). */
  warned: boolean;
}

interface Load {
  promise: Promise<StoredEntry | undefined>;
  /** A write came after the load started: its result must not replace what the write cached. */
  superseded: boolean;
}

/**
 * A {@link KeyStore} decorator for the data plane over a remote store (Secrets Manager):
 *
 * - `get` results are cached: mutable entries for `ttlMs`, write-once entries (which never change)
 *   for `writeOnceTtlMs`; concurrent misses for one name share one read. Absence is not cached.
 * - When the store is unavailable ({@link KeyStoreUnavailableError}: network, timeout, 5xx,
 *   throttling after the store's retries) and a cached entry is at most `staleForMs` past its TTL,
 *   that entry is served (a warning is logged once per entry and outage); otherwise, and for an
 *   entry never read, the caller gets {@link ServiceUnavailableError} (HTTP 503,
 *   `ServiceUnavailableTemporary`). So during an outage the service answers from memory for at most
 *   TTL + staleFor after the last successful read, then fails fast and retryably, never with a 500.
 * - Writes go through; their result is cached (create, update) or the entry is dropped (delete,
 *   destroy, any failed write that may have changed it). Write failures map like reads, without
 *   stale serving.
 * - Access denied ({@link KeyStoreAccessDeniedError}) is a configuration fault, not an outage: it
 *   is logged with its cause and becomes {@link InternalFailureError} (500), as does any other
 *   {@link KeyStoreFailureError}. The store's interface errors (EntryExistsError, …) pass through.
 *
 * Cached buffers are the decorator's own copies: callers get copies (the keyring zeroes what it
 * reads), and evicted or invalidated buffers are zeroed.
 *
 * It keeps no change marker ({@link KeyStore.changes}), even over a store that has one: a marker
 * passed through would tell the caches above that nothing changed while this one still served an
 * entry another instance replaced. Mutable entries are trusted for `ttlMs`, no more.
 */
export class CachedKeyStore implements KeyStore {
  /** None, whatever the inner store keeps: see the class. */
  readonly changes: undefined = undefined;
  readonly #inner: KeyStore;
  readonly #ttlMs: number;
  readonly #writeOnceTtlMs: number;
  readonly #staleForMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #slots = new Map<string, Slot>();
  readonly #loads = new Map<string, Load>();

  constructor(inner: KeyStore, options: CachedKeyStoreOptions) {
    for (const [name, value] of [
      ['ttlMs', options.ttlMs],
      ['writeOnceTtlMs', options.writeOnceTtlMs],
      ['staleForMs', options.staleForMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of milliseconds ≥ 0`);
    }
    this.#inner = inner;
    this.#ttlMs = options.ttlMs;
    this.#writeOnceTtlMs = options.writeOnceTtlMs;
    this.#staleForMs = options.staleForMs;
    this.#maxEntries = options.maxEntries ?? CACHED_STORE_DEFAULTS.maxEntries;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const slot = this.#slots.get(name);
    if (slot && this.#now() < slot.expiresAt) {
      // Least recently used leaves first: a hit moves the entry to the end.
      this.#slots.delete(name);
      this.#slots.set(name, slot);
      return copy(slot.entry);
    }
    let load = this.#loads.get(name);
    if (!load) load = this.#load(name);
    try {
      const entry = await load.promise;
      return entry && copy(entry);
    } catch (err) {
      if (err instanceof KeyStoreUnavailableError) {
        const stale = this.#slots.get(name);
        const now = this.#now();
        if (stale && now < stale.expiresAt + this.#staleForMs) {
          if (!stale.warned) {
            stale.warned = true;
            this.#logger?.warn('key store unavailable: serving a cached entry past its TTL', {
              entry: name,
              staleMs: now - stale.expiresAt,
              servableForMs: stale.expiresAt + this.#staleForMs - now,
              reason: err.reason,
              error: err.message,
            });
          }
          return copy(stale.entry);
        }
      }
      throw this.#translate(err, 'get', name);
    }
  }

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    await this.#write(name, 'create', () => this.#inner.create(name, value, options));
    this.#put(name, { value: Buffer.from(value), revision: 1, writeOnce: options.writeOnce });
  }

  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    const revision = await this.#write(name, 'update', () => this.#inner.update(name, expectedRevision, value));
    this.#put(name, { value: Buffer.from(value), revision, writeOnce: false });
    return revision;
  }

  async delete(name: string, expectedRevision: number): Promise<void> {
    await this.#write(name, 'delete', () => this.#inner.delete(name, expectedRevision));
    this.#drop(name);
  }

  async destroy(name: string): Promise<void> {
    this.#drop(name);
    await this.#write(name, 'destroy', () => this.#inner.destroy(name));
    this.#drop(name);
  }

  async list(prefix: string): Promise<string[]> {
    try {
      return await this.#inner.list(prefix);
    } catch (err) {
      throw this.#translate(err, 'list', undefined);
    }
  }

  #load(name: string): Load {
    const load: Load = { superseded: false, promise: undefined as unknown as Promise<StoredEntry | undefined> };
    load.promise = this.#inner
      .get(name)
      .then((entry) => {
        if (!load.superseded) {
          if (entry) this.#put(name, entry);
          else this.#drop(name);
        }
        return entry;
      })
      .finally(() => {
        if (this.#loads.get(name) === load) this.#loads.delete(name);
      });
    this.#loads.set(name, load);
    return load;
  }

  /**
   * Runs a write. A read that overlaps it (started before it ended) may have seen the old value, so
   * its result is not cached: loads in flight are superseded when the write starts and ends.
   */
  async #write<T>(name: string, operation: string, run: () => Promise<T>): Promise<T> {
    this.#supersedeLoad(name);
    try {
      return await run();
    } catch (err) {
      this.#invalidateAfterFailure(name, err);
      throw this.#translate(err, operation, name);
    } finally {
      this.#supersedeLoad(name);
    }
  }

  #supersedeLoad(name: string): void {
    const load = this.#loads.get(name);
    if (load) {
      load.superseded = true;
      this.#loads.delete(name);
    }
  }

  #put(name: string, entry: StoredEntry): void {
    this.#drop(name);
    const ttl = entry.writeOnce ? this.#writeOnceTtlMs : this.#ttlMs;
    this.#slots.set(name, { entry: copy(entry), expiresAt: this.#now() + ttl, warned: false });
    while (this.#slots.size > this.#maxEntries) this.#drop(this.#slots.keys().next().value as string);
  }

  #drop(name: string): void {
    const slot = this.#slots.get(name);
    if (!slot) return;
    this.#slots.delete(name);
    slot.entry.value.fill(0);
  }

  /**
   * After a failed write the cached entry may be stale — except when the store was unavailable
   * before anything could change (then it is kept for stale serving). An unknown outcome drops it.
   */
  #invalidateAfterFailure(name: string, err: unknown): void {
    if (err instanceof KeyStoreUnavailableError && err.reason !== 'unknown-outcome') return;
    this.#drop(name);
  }

  #translate(err: unknown, operation: string, entry: string | undefined): unknown {
    if (err instanceof KeyStoreUnavailableError) {
      this.#logger?.warn('key store unavailable', { operation, entry, reason: err.reason, error: err.message });
      return new ServiceUnavailableError({ cause: err });
    }
    if (err instanceof KeyStoreAccessDeniedError) {
      this.#logger?.error("key store access denied: check the role, its policy and the secrets' KMS key", { operation, entry, error: err.message });
      return new InternalFailureError({ cause: err });
    }
    if (err instanceof KeyStoreFailureError) {
      this.#logger?.error('key store failure', { operation, entry, error: err.message });
      return new InternalFailureError({ cause: err });
    }
    return err;
  }
}

function copy(entry: StoredEntry): StoredEntry {
  return { value: Buffer.from(entry.value), revision: entry.revision, writeOnce: entry.writeOnce };
}
