import { setTimeout as sleep } from 'node:timers/promises';
import { type ChangeMarker, EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError, type StoredEntry } from './key-store.js';

/** The entries of key-version material: `key-versions/<keyId>/<keyVersionId>` (see lib/keyring/records.ts). */
const MATERIAL_PREFIX = 'key-versions/';
/** Where the state backend records which material exists: `material-index/<keyId>/<keyVersionId>`. */
const INDEX_PREFIX = 'material-index/';

/** How a read of material that the index names, but the secret store does not show yet, is retried. */
export const SPLIT_STORE_DEFAULTS = {
  catchUpAttempts: 5,
  catchUpDelayMs: 200,
  /** An index entry older than this whose material is absent is a write that failed: no waiting for it. */
  catchUpWindowMs: 60_000,
} as const;

/**
 * One {@link KeyStore} over two: key-version material in a managed secret store (on AWS, Secrets
 * Manager: one secret per version, created once, never updated, so it needs no compare-and-swap),
 * and every other entry — key metadata, the version index, aliases, access keys — in the state
 * backend, whose conditional writes and consistent reads the mutable entries need.
 *
 * The state backend also records which material exists (`material-index/…`, written before the
 * material), so listing a key's versions is a consistent query of the state backend, never a
 * listing of the secret store (eventually consistent, and a permission no role then needs). A
 * version the index names but the secret store does not show yet is read again a few times while
 * the secret store catches up — only while the index entry is recent: one left by a material write
 * that failed (and could not be removed) is not waited for again.
 */
export class SplitKeyStore implements KeyStore {
  /** The state backend's: every mutable entry is there (material is write-once). */
  readonly changes: ChangeMarker | undefined;
  readonly #material: KeyStore;
  readonly #state: KeyStore;
  readonly #attempts: number;
  readonly #delayMs: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: {
    material: KeyStore;
    state: KeyStore;
    catchUpAttempts?: number;
    catchUpDelayMs?: number;
    catchUpWindowMs?: number;
    now?: () => number;
  }) {
    this.#material = options.material;
    this.#state = options.state;
    this.changes = options.state.changes;
    this.#attempts = options.catchUpAttempts ?? SPLIT_STORE_DEFAULTS.catchUpAttempts;
    this.#delayMs = options.catchUpDelayMs ?? SPLIT_STORE_DEFAULTS.catchUpDelayMs;
    this.#windowMs = options.catchUpWindowMs ?? SPLIT_STORE_DEFAULTS.catchUpWindowMs;
    this.#now = options.now ?? Date.now;
  }

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    if (!isMaterial(name)) return this.#state.create(name, value, options);
    let indexed = false;
    try {
      // The index entry holds when it was written: see get.
      await this.#state.create(indexName(name), Buffer.from(String(this.#now()), 'ascii'), { writeOnce: false });
      indexed = true;
    } catch (err) {
      // Indexed by an earlier attempt (or a racing create, which the secret store decides).
      if (!(err instanceof EntryExistsError)) throw err;
    }
    try {
      await this.#material.create(name, value, options);
    } catch (err) {
      // No material: take back the index entry this call wrote (best effort), so no reader waits for it.
      if (indexed && !(err instanceof EntryExistsError)) await this.#removeIndex(name).catch(() => undefined);
      throw err;
    }
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    if (!isMaterial(name)) return this.#state.get(name);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#material.get(name);
      if (entry || attempt >= this.#attempts) return entry;
      // Absent from the secret store: wait only if the index says it was written, and lately.
      const index = await this.#state.get(indexName(name));
      if (!index) return undefined;
      const writtenAt = Number(index.value.toString('ascii'));
      if (!(writtenAt > this.#now() - this.#windowMs)) return undefined;
      await sleep(this.#delayMs * attempt);
    }
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return (isMaterial(name) ? this.#material : this.#state).update(name, expectedRevision, value);
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return (isMaterial(name) ? this.#material : this.#state).delete(name, expectedRevision);
  }

  async destroy(name: string): Promise<void> {
    if (!isMaterial(name)) return this.#state.destroy(name);
    await this.#material.destroy(name);
    await this.#removeIndex(name);
  }

  async #removeIndex(name: string): Promise<void> {
    for (;;) {
      const index = await this.#state.get(indexName(name));
      if (!index) return;
      try {
        await this.#state.delete(indexName(name), index.revision);
        return;
      } catch (err) {
        if (err instanceof EntryNotFoundError) return;
        if (!(err instanceof RevisionConflictError)) throw err;
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    const inMaterial = prefix.startsWith(MATERIAL_PREFIX);
    const material =
      inMaterial || MATERIAL_PREFIX.startsWith(prefix)
        ? (await this.#state.list(indexName(inMaterial ? prefix : MATERIAL_PREFIX))).map((name) => `${MATERIAL_PREFIX}${name.slice(INDEX_PREFIX.length)}`)
        : [];
    if (inMaterial) return material;
    const state = (await this.#state.list(prefix)).filter((name) => !name.startsWith(INDEX_PREFIX));
    return [...state, ...material].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function isMaterial(name: string): boolean {
  return name.startsWith(MATERIAL_PREFIX);
}

function indexName(materialName: string): string {
  return `${INDEX_PREFIX}${materialName.slice(MATERIAL_PREFIX.length)}`;
}
