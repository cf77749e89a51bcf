import type { ChangeMarker, KeyStore, StoredEntry } from './key-store.js';
import { SplitKeyStore } from './split-store.js';

/** The entries of key-version material (see lib/keyring/records.ts). */
const MATERIAL_PREFIX = 'key-versions/';
/** What the earlier split layout kept in the table beside material held in Secrets Manager (./split-store.ts). */
const INDEX_PREFIX = 'material-index/';

/**
 * The `dynamodb` store while a stage still has key material in Secrets Manager (one secret per
 * version, the layout before material moved into the sealed table): every write goes to the
 * table, material included, and a version whose material the table does not hold yet is read
 * from its secret (found through the table's `material-index/` entries, as before). So a stage
 * keeps working from its upgrade until `kms store migrate-material` has copied every version into
 * the table; then the prefix is unset and Secrets Manager is no longer read.
 *
 * Destroying a version removes it from both (the secret with it, first). Listing merges the table's
 * versions with those only the index names. Version ids are random, so a new version never
 * meets a secret of the same name.
 */
export class MaterialFallbackStore implements KeyStore {
  readonly changes: ChangeMarker | undefined;
  readonly #table: KeyStore;
  readonly #legacy: SplitKeyStore;

  constructor(options: { table: KeyStore; secrets: KeyStore }) {
    this.#table = options.table;
    this.#legacy = new SplitKeyStore({ material: options.secrets, state: options.table });
    this.changes = options.table.changes;
  }

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.#table.create(name, value, options);
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const entry = await this.#table.get(name);
    if (entry || !name.startsWith(MATERIAL_PREFIX)) return entry;
    return this.#legacy.get(name);
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#table.update(name, expectedRevision, value);
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#table.delete(name, expectedRevision);
  }

  /**
   * The secret and its index entry first, then the table's entry (a name that is not material is
   * the table's alone): `kms store migrate-material` may be copying the version meanwhile, and a
   * copy made after the index entry went is found and removed by the migration itself
   * (./material-migration.ts), one made before it is removed here.
   */
  async destroy(name: string): Promise<void> {
    if (name.startsWith(MATERIAL_PREFIX)) await this.#legacy.destroy(name);
    await this.#table.destroy(name);
  }

  async list(prefix: string): Promise<string[]> {
    const [table, legacy] = await Promise.all([this.#table.list(prefix), this.#legacy.list(prefix)]);
    const names = new Set([...table.filter((name) => !name.startsWith(INDEX_PREFIX)), ...legacy]);
    return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
