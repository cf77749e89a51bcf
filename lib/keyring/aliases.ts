import { AliasChangedError, AliasNotFoundError } from '../errors.js';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { TtlCache } from '../ttl-cache.js';
import { AliasIndex } from './alias-index.js';
import { Listing } from './listing.js';
import { type AliasRecord, decodeRecord, encodeRecord, entryNames } from './records.js';

/**
 * Aliases (`aliases/<name after alias/>`, each naming one key), the key → alias index kept beside
 * them (see AliasIndex), and the seed's ledger of the aliases it bound. Every change is a
 * compare-and-swap on the alias entry against the key the caller was authorised on.
 */
export class Aliases {
  readonly #store: KeyStore;
  readonly #cache: TtlCache<string, AliasRecord | undefined>;
  readonly #names: Listing;
  readonly #index: AliasIndex;

  /** `listingTtlMs`: how long the listing of aliases is kept, when it is (see KeyringOptions.cacheListings). */
  constructor(store: KeyStore, options: { cacheTtlMs: number; listingTtlMs: number | undefined; now: () => number }) {
    this.#store = store;
    this.#cache = new TtlCache({ ttlMs: options.cacheTtlMs, maxEntries: 10_000, now: options.now, name: 'aliases' });
    this.#names = new Listing(store, 'aliases/', { ttlMs: options.listingTtlMs, now: options.now });
    this.#index = new AliasIndex(store);
  }

  /** The alias, through the cache (for resolving a KeyId), or undefined. */
  get(aliasName: string): Promise<AliasRecord | undefined> {
    return this.#cache.get(aliasName, () => this.read(aliasName));
  }

  /**
   * The alias as the store has it now, bypassing the cache: for changes that must be authorised on
   * the key the alias really names.
   */
  async read(aliasName: string): Promise<AliasRecord | undefined> {
    const entry = await this.#store.get(entryNames.alias(aliasName));
    return entry && decodeRecord<AliasRecord>(entry.value);
  }

  /**
   * One page of every alias, by name, and how many there are: names come from one listing, and
   * only the page's aliases are read.
   */
  async page(offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    const names = await this.#names.names();
    // The page's aliases are read at once (a page of 100 one after another took 30 ms on a file
    // store). Through the alias cache only where the listing is cached too: both are then dropped
    // together, whereas that cache keeps an alias's absence, which a fresh listing would contradict.
    const read = (aliasName: string) => (this.#names.kept ? this.get(aliasName) : this.read(aliasName));
    const found = await Promise.all(names.slice(offset, offset + limit).map((name) => read(`alias/${name.slice('aliases/'.length)}`)));
    const aliases: AliasRecord[] = [];
    for (const alias of found) {
      // Deleted since the listing: the page is one shorter, as if it had gone a moment earlier.
      if (alias) aliases.push(alias);
    }
    return { aliases, total: names.length };
  }

  /** One page of one key's aliases, by name, and how many it has: reads that key's index and the page (see AliasIndex). */
  pageOfKey(keyId: string, offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    return this.#index.page(keyId, offset, limit);
  }

  /** Drops every cached alias (another process may have changed them: see Keyring.dropCachedState). */
  dropCache(): void {
    this.#cache.clear();
    this.#names.clear();
  }

  /** Binds a new alias. Throws {@link EntryExistsError} when the alias exists. */
  async create(aliasName: string, keyId: string): Promise<AliasRecord> {
    const record: AliasRecord = { aliasName, keyId };
    await this.#index.add(keyId, aliasName);
    try {
      await this.#store.create(entryNames.alias(aliasName), encodeRecord(record), { writeOnce: false });
    } catch (err) {
      if (err instanceof EntryExistsError) await this.#index.removeIfStale(keyId, aliasName);
      throw err;
    } finally {
      // Whether or not the write landed: the next listing lists the store as it is then.
      this.#names.clear();
    }
    // Dropped, not set (see TtlCache): the next read loads the alias as the store holds it then.
    this.#cache.delete(aliasName);
    // Again after: a concurrent removal of a stale entry may have run between the two writes.
    await this.#index.add(keyId, aliasName);
    return record;
  }

  /**
   * Rebinds an existing alias to another key, if it still names `expectedKeyId` (the key the caller
   * was authorised on). Throws {@link AliasNotFoundError}, or {@link AliasChangedError} when
   * another writer rebound it in between.
   */
  async update(aliasName: string, keyId: string, expectedKeyId: string): Promise<AliasRecord> {
    const name = entryNames.alias(aliasName);
    for (;;) {
      const entry = await this.#store.get(name);
      if (!entry) throw new AliasNotFoundError(aliasName);
      if (decodeRecord<AliasRecord>(entry.value).keyId !== expectedKeyId) throw new AliasChangedError(aliasName);
      const record: AliasRecord = { aliasName, keyId };
      await this.#index.add(keyId, aliasName);
      try {
        await this.#store.update(name, entry.revision, encodeRecord(record));
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        if (err instanceof EntryNotFoundError) throw new AliasNotFoundError(aliasName);
        throw err;
      }
      this.#cache.delete(aliasName);
      await this.#index.add(keyId, aliasName);
      await this.#index.removeIfStale(expectedKeyId, aliasName);
      return record;
    }
  }

  /**
   * Removes an alias, if it still names `expectedKeyId` (the key the caller was authorised on).
   * Throws {@link AliasNotFoundError}, or {@link AliasChangedError} when another writer rebound it.
   */
  async delete(aliasName: string, expectedKeyId: string): Promise<void> {
    const name = entryNames.alias(aliasName);
    for (;;) {
      const entry = await this.#store.get(name);
      if (!entry) throw new AliasNotFoundError(aliasName);
      if (decodeRecord<AliasRecord>(entry.value).keyId !== expectedKeyId) throw new AliasChangedError(aliasName);
      try {
        await this.#store.delete(name, entry.revision);
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        if (err instanceof EntryNotFoundError) throw new AliasNotFoundError(aliasName);
        throw err;
      } finally {
        this.#names.clear();
      }
      this.#cache.delete(aliasName);
      await this.#index.removeIfStale(expectedKeyId, aliasName);
      return;
    }
  }

  /**
   * Removes every alias that names a key being destroyed, and its index. Every alias is read, not
   * the index alone: a rare job, and an alias the index missed (written by an older version
   * mid-upgrade) must not outlive its key. An alias moved to another key in between stays.
   */
  async deleteAllOf(keyId: string): Promise<void> {
    for (const name of await this.#store.list('aliases/')) {
      const entry = await this.#store.get(name);
      const alias = entry && decodeRecord<AliasRecord>(entry.value);
      if (alias?.keyId === keyId) await this.delete(alias.aliasName, keyId).catch(() => undefined);
    }
    await this.#index.dropKey(keyId);
  }

  /** The key a seed bound this alias to when it created it (see entryNames.seededAlias), or undefined. */
  async seededKey(aliasName: string): Promise<string | undefined> {
    const entry = await this.#store.get(entryNames.seededAlias(aliasName));
    return entry && decodeRecord<AliasRecord>(entry.value).keyId;
  }

  /** Records that a seed bound this alias to `keyId` (created it, or found it so). */
  async markSeeded(aliasName: string, keyId: string): Promise<void> {
    const name = entryNames.seededAlias(aliasName);
    const record = encodeRecord({ aliasName, keyId } satisfies AliasRecord);
    for (;;) {
      const entry = await this.#store.get(name);
      try {
        if (!entry) await this.#store.create(name, record, { writeOnce: false });
        else if (decodeRecord<AliasRecord>(entry.value).keyId !== keyId) await this.#store.update(name, entry.revision, record);
        return;
      } catch (err) {
        if (!(err instanceof EntryExistsError || err instanceof RevisionConflictError)) throw err;
      }
    }
  }
}
