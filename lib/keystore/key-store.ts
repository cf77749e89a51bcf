/**
 * The key store: a small byte-oriented interface under the keyring (after MinIO KES). It knows
 * nothing of keys, versions or crypto; it keeps named entries, and it keeps two promises:
 *
 * - **write-once** entries (key-version material) can never be replaced; they are removed only by
 *   {@link KeyStore.destroy}, which the scheduled deletion of a key past its window alone calls;
 * - **mutable** entries (key metadata, aliases, access keys) change only by compare-and-swap on a
 *   revision, so two writers never silently lose an update.
 *
 * Every write is atomic and durable before it returns: after a crash an entry is either the old
 * value or the new one, never a mix, and nothing acknowledged is lost.
 */
export interface KeyStore {
  /**
   * Creates an entry. Throws {@link EntryExistsError} if the name is taken, whatever its kind.
   * `writeOnce` entries can never be updated afterwards.
   */
  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void>;

  /** The entry and its revision, or undefined when there is none. */
  get(name: string): Promise<StoredEntry | undefined>;

  /**
   * Replaces a mutable entry if its revision is still `expectedRevision`, and returns the new
   * revision. Throws {@link EntryNotFoundError} if there is none, {@link RevisionConflictError} if
   * someone else wrote first, {@link WriteOnceViolationError} for a write-once entry.
   */
  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number>;

  /**
   * Removes a mutable entry if its revision is still `expectedRevision`. Throws
   * {@link EntryNotFoundError}, {@link RevisionConflictError}, or {@link WriteOnceViolationError}
   * for a write-once entry: key material never leaves through this method.
   */
  delete(name: string, expectedRevision: number): Promise<void>;

  /**
   * Destroys a write-once entry. The callers: the scheduled key-deletion function, for the
   * versions of a key whose pending-deletion window has passed; DeleteKeyMaterial and the expiry
   * sweep, for an imported key's material. The only ways material disappears.
   * Idempotent (an absent entry is not an error); throws {@link WriteOnceViolationError} for a
   * mutable entry, which must go through {@link delete}.
   */
  destroy(name: string): Promise<void>;

  /** Every entry name that starts with `prefix`, in byte order. */
  list(prefix: string): Promise<string[]>;

  /**
   * The store's change marker (see {@link ChangeMarker}), shared by every instance on the store;
   * undefined when the store keeps none (Secrets Manager, which has no consistent read to keep it
   * with): whoever caches its mutable entries can then only trust them for a time. Required, so
   * that every store says which: a decorator must pass its inner store's on (or say it has none).
   */
  readonly changes: ChangeMarker | undefined;
}

/**
 * A value kept beside a store's entries that every write of a mutable entry (create, update,
 * delete) moves to one it never held before, as part of the write and durably, before the write
 * returns; a write whose marker cannot be moved fails (unavailable), so no change is acknowledged
 * without it. Creating, reading or destroying a write-once entry leaves it: such an entry never
 * changes, and nothing caches its absence.
 *
 * So whoever reads the marker and later reads it unchanged knows that no mutable entry changed in
 * between: the processes sharing a store validate their caches with one small read
 * (lib/keystore/change-watch.ts) instead of trusting them for a TTL.
 */
export interface ChangeMarker {
  /**
   * The marker as the store holds it now (a consistent read, never a cached one). Throws
   * KeyStoreUnavailableError when it cannot be read: a cache must then not be trusted.
   */
  read(): Promise<string>;
}

/**
 * A store that can re-encode a stored value in place, keeping its revision and write-once flag:
 * only for a one-time change of format that keeps what the value means (sealing a store written
 * before sealing existed). `reencode` gets the stored bytes and returns the new ones, or undefined
 * to leave the entry as it is; an absent entry is left absent.
 */
export interface ReencodableStore {
  reencode(name: string, reencode: (stored: Buffer) => Buffer | undefined): Promise<void>;
}

export function isReencodable(store: KeyStore): store is KeyStore & ReencodableStore {
  return typeof (store as Partial<ReencodableStore>).reencode === 'function';
}

export interface StoredEntry {
  value: Buffer;
  revision: number;
  writeOnce: boolean;
}

export class EntryExistsError extends Error {
  constructor(readonly entry: string) {
    super(`entry "${entry}" already exists`);
    this.name = 'EntryExistsError';
  }
}

export class EntryNotFoundError extends Error {
  constructor(readonly entry: string) {
    super(`entry "${entry}" does not exist`);
    this.name = 'EntryNotFoundError';
  }
}

export class RevisionConflictError extends Error {
  constructor(readonly entry: string) {
    super(`entry "${entry}" was changed by another writer`);
    this.name = 'RevisionConflictError';
  }
}

export class WriteOnceViolationError extends Error {
  constructor(readonly entry: string) {
    super(`entry "${entry}" is write-once`);
    this.name = 'WriteOnceViolationError';
  }
}

/** Entry names are path-like ASCII; this is what every backend accepts. */
export function assertEntryName(name: string): void {
  if (!/^[A-Za-z0-9_\-./]{1,1024}$/.test(name) || name.includes('..')) {
    throw new Error(`invalid entry name "${name}"`);
  }
}
