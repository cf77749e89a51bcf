import type { KeyStore, StoredEntry } from './key-store.js';

/** The entries of key-version material: `key-versions/<keyId>/<keyVersionId>` (see lib/keyring/records.ts). */
const MATERIAL_PREFIX = 'key-versions/';

/**
 * One {@link KeyStore} over two: key-version material in a managed secret store (on AWS, Secrets
 * Manager: one secret per version, created once, never updated, so it needs no compare-and-swap),
 * and every other entry — key metadata, the version index, aliases, access keys — in the state
 * backend, whose conditional writes and consistent reads the mutable entries need.
 */
export class SplitKeyStore implements KeyStore {
  readonly #material: KeyStore;
  readonly #state: KeyStore;

  constructor(options: { material: KeyStore; state: KeyStore }) {
    this.#material = options.material;
    this.#state = options.state;
  }

  #of(name: string): KeyStore {
    return name.startsWith(MATERIAL_PREFIX) ? this.#material : this.#state;
  }

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.#of(name).create(name, value, options);
  }

  get(name: string): Promise<StoredEntry | undefined> {
    return this.#of(name).get(name);
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#of(name).update(name, expectedRevision, value);
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#of(name).delete(name, expectedRevision);
  }

  destroy(name: string): Promise<void> {
    return this.#of(name).destroy(name);
  }

  async list(prefix: string): Promise<string[]> {
    if (prefix.startsWith(MATERIAL_PREFIX)) return this.#material.list(prefix);
    const state = (await this.#state.list(prefix)).filter((name) => !name.startsWith(MATERIAL_PREFIX));
    // A prefix that covers the material's names too ("", "key", "key-versions").
    if (!MATERIAL_PREFIX.startsWith(prefix)) return state;
    const material = await this.#material.list(prefix);
    return [...state, ...material].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
