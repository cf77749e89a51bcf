import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type ChangeMarker, EntryExistsError, EntryNotFoundError, isReencodable, type KeyStore, RevisionConflictError, type StoredEntry } from './key-store.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError } from './store-errors.js';

/** What a sealed value starts with: "KMSS" and the format version. */
const MAGIC = Buffer.from('KMSS\x01', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Sealed under the root key when it first seals a store: proves later that a root key is the same one. */
export const ROOT_KEY_CHECK_ENTRY = 'meta/root-key-check';
const CHECK_PLAINTEXT = Buffer.from('kms root key check v1', 'ascii');
const ALL_SEALED_PLAINTEXT = Buffer.from('all values sealed v1', 'ascii');
/**
 * Written once every value of the store is sealed: from then on a value that is not sealed is
 * refused, so nobody who can write the disk or the table without the root key can plant one.
 */
export const ALL_SEALED_ENTRY = 'meta/all-sealed';
const SEAL_ENTRIES = new Set([ROOT_KEY_CHECK_ENTRY, ALL_SEALED_ENTRY]);

/** What a store's seal entries say, as {@link SealedKeyStore.readSeal} read them. */
export interface SealState {
  /** The check entry (sealed under the root key), absent in a store never sealed. */
  check: StoredEntry | undefined;
  /** The marker that every value is sealed ({@link ALL_SEALED_ENTRY}, itself sealed), if any. */
  allSealed: StoredEntry | undefined;
}

/**
 * How a store holding values in the clear is treated when it is opened. `automatic`: they are
 * sealed in place (the file store, whose root key lies beside the data by default, so whoever can
 * write the one can read the other). `explicit`: such a store is refused with
 * {@link UnsealedStoreError} until an operator seals it (`kms store seal`): a store shared beyond
 * one machine (DynamoDB, PostgreSQL), where the right to write the table is not the right to the
 * root key, and a value planted in the clear must never be taken in.
 */
export type SealInPlace = 'automatic' | 'explicit';

/** The store holds values that are not sealed under the root key, and this opening may not seal them. */
export class UnsealedStoreError extends KeyStoreFailureError {
  constructor(count: number) {
    super(
      'open',
      'meta/all-sealed',
      `the store holds ${count} value(s) not sealed under the root key and no proof that every value is sealed; if it is a store of an earlier release, seal it once with \`kms store seal\` (as an operator with the root key); otherwise values were written around this service`,
    );
    this.name = 'UnsealedStoreError';
  }
}

/** The root key given does not open what this store was sealed with: never start over such data. */
export class RootKeyMismatchError extends Error {
  constructor(detail: string) {
    super(
      `the root key does not match the one this store was sealed with (${detail}); use that root key (KMS_ROOT_KEY_FILE / KMS_ROOT_KEY_SOURCE), never a new one over existing data`,
    );
    this.name = 'RootKeyMismatchError';
  }
}

/**
 * A {@link KeyStore} decorator (the file and PostgreSQL backends) that keeps every value encrypted
 * at rest under a root key: AES-256-GCM, a fresh IV per write, the entry's name as additional data
 * (a value copied under another name does not open). So key material and access-key secrets never
 * lie in a file or a table in plaintext, and whoever reads the disk or the database without the
 * root key learns neither.
 *
 * A store written before sealing existed (values without the "KMSS" prefix) is sealed when it is
 * first opened: every value, write-once ones included (re-encoded in place, see ReencodableStore),
 * then {@link ALL_SEALED_ENTRY} is written. After that, a value that is not sealed is refused.
 * An instance whose role may not write (KeyStoreAccessDeniedError) opens the store as it is and
 * leaves the sealing to one that may; it refuses unsealed values only once it opens a sealed store.
 * Revisions, write-once rules and errors are the inner store's.
 */
export class SealedKeyStore implements KeyStore {
  /** The inner store's: the seal changes values, never which writes happen. */
  readonly changes: ChangeMarker | undefined;
  readonly #inner: KeyStore;
  readonly #rootKey: Buffer;
  /** Every value is sealed: an unsealed one is refused. */
  #allSealed = false;

  private constructor(inner: KeyStore, rootKey: Buffer) {
    this.#inner = inner;
    this.#rootKey = rootKey;
    this.changes = inner.changes;
  }

  /**
   * Seals `inner` under `rootKey` (32 bytes; the store keeps its own copy). The first time a store
   * is sealed a check entry is written; later, a root key that does not open it is refused with
   * {@link RootKeyMismatchError} before anything is read or written. A store whose all-sealed
   * marker opens under the root key is sealed; any other store that holds values is sealed in
   * place (`automatic`) or refused (`explicit`, see {@link SealInPlace}); an empty one is sealed now.
   */
  static async open(inner: KeyStore, rootKey: Uint8Array, seal?: SealState, options: { sealInPlace?: SealInPlace } = {}): Promise<SealedKeyStore> {
    if (rootKey.length !== 32) throw new Error('the root key must be 32 bytes');
    const store = new SealedKeyStore(inner, Buffer.from(rootKey));
    const { check, allSealed } = seal ?? (await SealedKeyStore.readSeal(inner));
    if (check) store.#verifyCheck(check.value);
    // The marker proves every value sealed only if it opens under this root key: nobody without it
    // can forge one, and one deleted is no proof.
    if (allSealed && store.#opens(ALL_SEALED_ENTRY, allSealed.value, ALL_SEALED_PLAINTEXT)) {
      store.#allSealed = true;
      return store;
    }
    if (options.sealInPlace === 'explicit') return store.#openWithoutSealingInPlace(check !== undefined);
    if (!check) {
      try {
        await inner.create(ROOT_KEY_CHECK_ENTRY, store.#seal(ROOT_KEY_CHECK_ENTRY, CHECK_PLAINTEXT), { writeOnce: true });
      } catch (err) {
        // A role that may only read cannot seal: it reads the store as it is (with no check entry
        // nothing was ever sealed), and a writer seals it.
        if (err instanceof KeyStoreAccessDeniedError) return store;
        if (!(err instanceof EntryExistsError)) throw err;
        // Another instance sealed it first: check against theirs.
        return SealedKeyStore.open(inner, rootKey, undefined, options);
      }
    }
    try {
      await store.#sealEverything();
    } catch (err) {
      // Sealing in place is a writer's job (see above): a reader meanwhile reads what is not sealed yet.
      if (err instanceof KeyStoreAccessDeniedError) return store;
      throw err;
    }
    store.#allSealed = true;
    return store;
  }

  /**
   * `explicit`: a store without a valid marker is taken only when it holds nothing (a new one),
   * and is sealed at once (check entry, then marker); a role that may only read takes the empty
   * store as sealed, so it never serves a value in the clear. A store that holds values is refused.
   */
  async #openWithoutSealingInPlace(hasCheck: boolean): Promise<SealedKeyStore> {
    const inner = this.#inner;
    const held = (await inner.list('')).filter((name) => !SEAL_ENTRIES.has(name));
    if (held.length > 0) throw new UnsealedStoreError(held.length);
    try {
      if (!hasCheck) await inner.create(ROOT_KEY_CHECK_ENTRY, this.#seal(ROOT_KEY_CHECK_ENTRY, CHECK_PLAINTEXT), { writeOnce: true });
      await this.#markAllSealed();
    } catch (err) {
      if (err instanceof EntryExistsError) {
        // Another instance sealed it first: check against theirs.
        const check = await inner.get(ROOT_KEY_CHECK_ENTRY);
        if (check) this.#verifyCheck(check.value);
        await this.#markAllSealed();
      } else if (!(err instanceof KeyStoreAccessDeniedError)) throw err;
    }
    this.#allSealed = true;
    return this;
  }

  /** Throws {@link RootKeyMismatchError} unless the check entry opens under this root key. */
  #verifyCheck(stored: Buffer): void {
    let opened: Buffer;
    try {
      opened = this.#open(ROOT_KEY_CHECK_ENTRY, stored);
    } catch {
      throw new RootKeyMismatchError('its check entry does not decrypt');
    }
    if (!isSealedValue(stored) || !opened.equals(CHECK_PLAINTEXT)) throw new RootKeyMismatchError('its check entry holds something else');
  }

  /** Whether `stored` is `expected` sealed under this root key as `name`. */
  #opens(name: string, stored: Buffer, expected: Buffer): boolean {
    if (!isSealedValue(stored)) return false;
    try {
      return this.#open(name, stored).equals(expected);
    } catch {
      return false;
    }
  }

  async #markAllSealed(): Promise<void> {
    await this.#inner.create(ALL_SEALED_ENTRY, this.#seal(ALL_SEALED_ENTRY, ALL_SEALED_PLAINTEXT), { writeOnce: true }).catch((err: unknown) => {
      if (!(err instanceof EntryExistsError)) throw err;
    });
  }

  /**
   * Seals every value still stored in the clear (a store from before sealing), then records that
   * all are sealed. Idempotent, and safe with another instance doing the same at once.
   */
  async #sealEverything(): Promise<void> {
    const inner = this.#inner;
    for (const name of await inner.list('')) {
      if (SEAL_ENTRIES.has(name)) continue;
      for (;;) {
        const entry = await inner.get(name);
        if (!entry || isSealedValue(entry.value)) break;
        if (entry.writeOnce) {
          if (!isReencodable(inner)) throw new Error(`the store holds a write-once value in the clear ("${name}") and cannot re-encode it in place`);
          entry.value.fill(0);
          await inner.reencode(name, (stored) => (isSealedValue(stored) ? undefined : this.#seal(name, stored)));
          break;
        }
        try {
          await inner.update(name, entry.revision, this.#seal(name, entry.value));
          break;
        } catch (err) {
          // Changed meanwhile (by a writer who sealed it, or removed it): look again.
          if (!(err instanceof RevisionConflictError || err instanceof EntryNotFoundError)) throw err;
        } finally {
          entry.value.fill(0);
        }
      }
    }
    await this.#markAllSealed();
  }

  /**
   * The seal's two entries, read at once (both are write-once, so reading them together, or before
   * the root key is at hand, sees nothing a read one after the other would not): what
   * {@link SealedKeyStore.open} needs, and whether the store was ever sealed (`check`).
   */
  static async readSeal(inner: KeyStore): Promise<SealState> {
    const [check, allSealed] = await Promise.all([inner.get(ROOT_KEY_CHECK_ENTRY), inner.get(ALL_SEALED_ENTRY)]);
    return { check, allSealed };
  }

  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.#inner.create(name, this.#seal(name, value), options);
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const entry = await this.#inner.get(name);
    if (!entry) return undefined;
    const value = this.#open(name, entry.value);
    if (value !== entry.value) entry.value.fill(0);
    return { ...entry, value };
  }

  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.#inner.update(name, expectedRevision, this.#seal(name, value));
  }

  delete(name: string, expectedRevision: number): Promise<void> {
    return this.#inner.delete(name, expectedRevision);
  }

  destroy(name: string): Promise<void> {
    return this.#inner.destroy(name);
  }

  /** The inner store's names, without the seal's own entries. */
  async list(prefix: string): Promise<string[]> {
    return (await this.#inner.list(prefix)).filter((name) => !SEAL_ENTRIES.has(name));
  }

  #seal(name: string, value: Uint8Array): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#rootKey, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    return Buffer.concat([MAGIC, iv, cipher.update(value), cipher.final(), cipher.getAuthTag()]);
  }

  /** The plaintext of a stored value; an unsealed one is refused once every value is sealed. */
  #open(name: string, stored: Buffer): Buffer {
    if (!isSealedValue(stored)) {
      if (this.#allSealed) throw new KeyStoreFailureError('get', name, 'a stored value is not sealed under the root key (written around this service)');
      return stored;
    }
    if (stored.length < MAGIC.length + IV_BYTES + TAG_BYTES) throw new KeyStoreFailureError('get', name, 'a sealed value is truncated');
    const iv = stored.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#rootKey, iv);
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
    const plaintext = decipher.update(stored.subarray(MAGIC.length + IV_BYTES, stored.length - TAG_BYTES));
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      plaintext.fill(0);
      throw new KeyStoreFailureError('get', name, 'a sealed value does not decrypt under the root key (changed, or moved from another entry)');
    }
  }
}

function isSealedValue(stored: Buffer): boolean {
  return stored.length >= MAGIC.length && stored.subarray(0, MAGIC.length).equals(MAGIC);
}
