import type { KeyStore } from '../keystore/key-store.js';
import { TtlCache } from '../ttl-cache.js';

/**
 * The names under one prefix of the store, in byte order: kept for `ttlMs` when it is given (see
 * KeyringOptions.cacheListings), else listed on every call. Not a cache of TTL 0 then: its entry
 * would be fresh again after the wall clock stepped back.
 */
export class Listing {
  readonly #store: KeyStore;
  readonly #prefix: string;
  readonly #kept: TtlCache<string, string[]> | undefined;

  constructor(store: KeyStore, prefix: string, options: { ttlMs: number | undefined; now: () => number }) {
    this.#store = store;
    this.#prefix = prefix;
    this.#kept = options.ttlMs === undefined ? undefined : new TtlCache({ ttlMs: options.ttlMs, maxEntries: 1, now: options.now, name: 'listings' });
  }

  /** Whether the listing is kept between calls. */
  get kept(): boolean {
    return this.#kept !== undefined;
  }

  names(): Promise<string[]> {
    const list = () => this.#store.list(this.#prefix);
    return this.#kept ? this.#kept.get(this.#prefix, list) : list();
  }

  /** After a change of what it lists (here, or anywhere: the change marker moved): the next call lists the store. */
  clear(): void {
    this.#kept?.clear();
  }
}
