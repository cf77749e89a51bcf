import {
  assertEntryName,
  type ChangeMarker,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from './key-store.js';

/** The reference implementation of {@link KeyStore}: in memory, for tests and experiments. */
export class MemoryKeyStore implements KeyStore {
  readonly #entries = new Map<string, StoredEntry>();
  /** The change marker: a count of mutable writes. */
  #generation = 0;
  readonly changes: ChangeMarker = { read: async () => String(this.#generation) };

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    assertEntryName(name);
    if (this.#entries.has(name)) throw new EntryExistsError(name);
    this.#entries.set(name, { value: Buffer.from(value), revision: 1, writeOnce: options.writeOnce });
    if (!options.writeOnce) this.#generation++;
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const entry = this.#entries.get(name);
    return entry && { ...entry, value: Buffer.from(entry.value) };
  }

  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    const entry = this.#entries.get(name);
    if (!entry) throw new EntryNotFoundError(name);
    if (entry.writeOnce) throw new WriteOnceViolationError(name);
    if (entry.revision !== expectedRevision) throw new RevisionConflictError(name);
    const revision = entry.revision + 1;
    this.#entries.set(name, { value: Buffer.from(value), revision, writeOnce: false });
    this.#generation++;
    return revision;
  }

  /** See {@link ReencodableStore}. */
  async reencode(name: string, reencode: (stored: Buffer) => Buffer | undefined): Promise<void> {
    const entry = this.#entries.get(name);
    const value = entry && reencode(Buffer.from(entry.value));
    if (entry && value) this.#entries.set(name, { ...entry, value: Buffer.from(value) });
  }

  async delete(name: string, expectedRevision: number): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry) throw new EntryNotFoundError(name);
    if (entry.writeOnce) throw new WriteOnceViolationError(name);
    if (entry.revision !== expectedRevision) throw new RevisionConflictError(name);
    this.#entries.delete(name);
    this.#generation++;
  }

  async destroy(name: string): Promise<void> {
    const entry = this.#entries.get(name);
    if (!entry) return;
    if (!entry.writeOnce) throw new WriteOnceViolationError(name);
    entry.value.fill(0);
    this.#entries.delete(name);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.#entries.keys()].filter((n) => n.startsWith(prefix)).sort();
  }
}
