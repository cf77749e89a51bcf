import { metrics } from './metrics/metrics.js';

/**
 * A small read-through cache: values expire `ttlMs` after loading, concurrent misses for one key
 * share a single load, and a failed load is not cached. `onEvict` sees every value that leaves
 * (used to zero key material).
 *
 * Values come in only through a load, never from a writer: a writer {@link delete}s the entry once
 * its write returned, so that the next get loads what the store holds then. (Putting the written
 * value instead could put back a value that another writer replaced while the write's answer was
 * on its way, after the caches were validated: stale until the TTL.)
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, { expiresAt: number; value: Promise<V> }>();

  constructor(
    private readonly options: {
      ttlMs: number;
      maxEntries: number;
      now?: () => number;
      onEvict?: (value: V) => void;
      /** Counts hits and misses in kms_cache_lookups_total under this name. */
      name?: string;
    },
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.#entries.get(key);
    const fresh = hit !== undefined && hit.expiresAt > now;
    if (this.options.name) metrics.cacheLookup(this.options.name, fresh);
    if (fresh) return hit.value;
    if (hit) this.delete(key);
    const value = load();
    this.#entries.set(key, { expiresAt: now + this.options.ttlMs, value });
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    if (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as K;
      this.delete(oldest);
    }
    return value;
  }

  /** Whether a value (loaded, or loading) is held for `key` and has not expired; counts no lookup. */
  has(key: K): boolean {
    const hit = this.#entries.get(key);
    return hit !== undefined && hit.expiresAt > (this.options.now ?? Date.now)();
  }

  delete(key: K): void {
    const hit = this.#entries.get(key);
    if (!hit) return;
    this.#entries.delete(key);
    if (this.options.onEvict) hit.value.then(this.options.onEvict, () => undefined);
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key);
  }
}
