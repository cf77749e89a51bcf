import { randomUUID } from 'node:crypto';
import { KeyDisabledError, KeyNotFoundError, KeyPendingDeletionError, KeyPendingImportError, KeyVersionNotFoundError } from '../errors.js';
import type { KeySpec, KeyUsage } from '../crypto/key-spec.js';
import { loadImportTokenKey } from './import-token-key.js';
import { withMaterialExpiry } from './external-material.js';
import { ImportedMaterial } from './imported-material.js';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { TtlCache } from '../ttl-cache.js';
import { Listing } from './listing.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { Aliases } from './aliases.js';
import { addSeconds } from './rotation.js';
import { type ArnScope, isKeyId, keyArn } from './key-id.js';
import { type AliasRecord, decodeRecord, encodeRecord, entryNames, type KeyRecord, type KeyState, type KeyVersionRecord } from './records.js';
import { type KeyVersion, type KeyVersionRecordInfo, KeyVersions, type NewVersion } from './versions.js';

export type { KeyVersion, KeyVersionRecordInfo, NewVersion } from './versions.js';

export interface KeyringOptions extends ArnScope {
  /**
   * How long key metadata and aliases read from the store are trusted at most (the service drops
   * them sooner when the store's change marker moves: see ChangeWatch); versions are immutable
   * and cached until evicted.
   */
  cacheTtlMs: number;
  /**
   * Whether listings of keys and aliases are cached too, for `cacheTtlMs`: only where every change
   * moves the store's change marker, so that the service drops them as it drops the rest (a
   * listing cannot be refreshed entry by entry: absence is in it).
   */
  cacheListings?: boolean;
  now?: () => number;
}

/** A key as operations see it: its metadata and its ARN. */
export interface ResolvedKey extends KeyRecord {
  arn: string;
}

/** What a new key is made of; every field may be left to the keyring. */
export interface NewKey {
  keyId?: string;
  description?: string;
  state?: KeyState;
  creator?: string;
  primaryKeyVersion?: string;
  /** Seconds; automatic rotation is enabled when given. */
  rotationInterval?: number;
  /** `[TagKey, TagValue]` pairs, each key once (validated by the caller). */
  tags?: Array<[string, string]>;
  /** Origin=EXTERNAL: no material until ImportKeyMaterial; the key starts PendingImport. */
  external?: boolean;
  /** Absent: `Aliyun_AES_256`; every version the keyring makes for the key has it. */
  keySpec?: KeySpec;
  /** Absent: `ENCRYPT/DECRYPT`. The caller checks that it fits the spec. */
  keyUsage?: KeyUsage;
}

/**
 * The keyring: resolves `KeyId` parameters to keys, finds the key a ciphertext's version belongs
 * to, and serves version material, all cached above the key store. Key-version logic lives here
 * and nowhere else; it knows nothing of HTTP.
 *
 * It owns key records (metadata, state, the primary version) and their lifecycle to destruction;
 * versions and their material are {@link KeyVersions}', aliases and their index {@link Aliases}'.
 * The methods that only pass on to those two keep one entry point for operations.
 */
export class Keyring {
  readonly scope: ArnScope;
  readonly versions: KeyVersions;
  readonly aliases: Aliases;
  readonly #store: KeyStore;
  readonly #keys: TtlCache<string, KeyRecord | undefined>;
  readonly #keyNames: Listing;
  readonly #now: () => number;
  #importTokenKey: Promise<Buffer> | undefined;
  readonly #imported: ImportedMaterial;

  constructor(store: KeyStore, options: KeyringOptions) {
    this.#store = store;
    this.scope = { region: options.region, accountId: options.accountId };
    this.#now = options.now ?? Date.now;
    this.#keys = new TtlCache({ ttlMs: options.cacheTtlMs, maxEntries: 10_000, now: this.#now, name: 'keys' });
    this.versions = new KeyVersions(store, { now: this.#now });
    const listingTtlMs = options.cacheListings && options.cacheTtlMs > 0 ? options.cacheTtlMs : undefined;
    this.#keyNames = new Listing(store, 'keys/', { ttlMs: listingTtlMs, now: this.#now });
    this.aliases = new Aliases(store, { cacheTtlMs: options.cacheTtlMs, listingTtlMs, now: this.#now });
    this.#imported = new ImportedMaterial({ versions: this.versions, updateKey: (keyId, change) => this.updateKey(keyId, change), now: this.#now });
  }

  arnOf(keyId: string): string {
    return keyArn(this.scope, keyId);
  }

  /** The key with its ARN, or undefined. */
  async findKey(keyId: string): Promise<ResolvedKey | undefined> {
    const key = await this.getKey(keyId);
    return key && { ...key, arn: this.arnOf(key.keyId) };
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    if (!isKeyId(keyId)) return undefined;
    const record = await this.#keys.get(keyId, async () => {
      const entry = await this.#store.get(entryNames.key(keyId));
      return entry && decodeRecord<KeyRecord>(entry.value);
    });
    // Evaluated on every read, not when cached: imported material expires to the second.
    return record && this.#asOfNow(record);
  }

  /** The key's primary version, which every new encryption uses. */
  async primaryVersion(key: KeyRecord): Promise<KeyVersion> {
    // By the key's own entry name: the index from version to key is not read (one round trip less).
    const version = await this.versions.findOfKey(key.keyId, key.primaryKeyVersion);
    if (!version) {
      // Imported material deleted since the key record was read (another instance, a racing call).
      if (key.external) throw new KeyPendingImportError(key.keyId);
      throw new KeyVersionNotFoundError(key.primaryKeyVersion);
    }
    return version;
  }

  /** Whether a key was destroyed (or its destruction began): such a key id is never brought back. */
  async wasDestroyed(keyId: string): Promise<boolean> {
    if (!isKeyId(keyId)) return false;
    if (await this.#store.get(entryNames.destroyedKey(keyId))) return true;
    return (await this.getKey(keyId))?.destructionStarted !== undefined;
  }

  /**
   * Creates a key with its first versions (one random version when none is given); the primary is
   * `primaryKeyVersion` or the last one. Throws {@link EntryExistsError} when the key or a version exists.
   */
  async createKey(input: NewKey & { versions?: NewVersion[] }): Promise<KeyRecord> {
    const keyId = input.keyId ?? randomUUID();
    if (input.external) {
      // One version for life, its id fixed now and indexed, its material imported later.
      const keyVersionId = randomUUID();
      await this.versions.ensureOwner(keyId, keyVersionId);
      return this.createKeyRecord({ ...input, keyId, primaryKeyVersion: keyVersionId, state: 'PendingImport' });
    }
    const versionIds: string[] = [];
    const keySpec = input.keySpec === 'Aliyun_AES_256' ? undefined : input.keySpec;
    for (const version of input.versions?.length ? input.versions : [{}]) versionIds.push(await this.versions.add(keyId, { ...version, keySpec }));
    return this.createKeyRecord({ ...input, keyId, primaryKeyVersion: input.primaryKeyVersion ?? versionIds[versionIds.length - 1]! });
  }

  /**
   * Writes the metadata of a key whose versions exist already. Versions are always written before
   * the key record, so a crash leaves at worst unreachable versions, never a key without material.
   * Throws {@link EntryExistsError} when the key exists.
   */
  async createKeyRecord(input: NewKey & { keyId: string; primaryKeyVersion: string }): Promise<KeyRecord> {
    if (input.external) {
      if ((await this.versions.owner(input.primaryKeyVersion)) !== input.keyId) throw new KeyVersionNotFoundError(input.primaryKeyVersion);
    } else {
      const primary = await this.versions.find(input.primaryKeyVersion);
      if (!primary || primary.keyId !== input.keyId) throw new KeyVersionNotFoundError(input.primaryKeyVersion);
    }
    const creationDate = isoSeconds(this.#now());
    const record: KeyRecord = {
      keyId: input.keyId,
      description: input.description ?? '',
      state: input.state ?? 'Enabled',
      creationDate,
      creator: input.creator ?? '',
      primaryKeyVersion: input.primaryKeyVersion,
      automaticRotation: input.rotationInterval === undefined ? 'Disabled' : 'Enabled',
      ...(input.rotationInterval === undefined
        ? {}
        : { rotationInterval: input.rotationInterval, nextRotationDate: addSeconds(creationDate, input.rotationInterval) }),
      ...(input.tags?.length ? { tags: [...input.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) } : {}),
      ...(input.external ? { external: {} } : {}),
      ...(input.keySpec && input.keySpec !== 'Aliyun_AES_256' ? { keySpec: input.keySpec } : {}),
      ...(input.keyUsage && input.keyUsage !== 'ENCRYPT/DECRYPT' ? { keyUsage: input.keyUsage } : {}),
    };
    try {
      await this.#store.create(entryNames.key(record.keyId), encodeRecord(record), { writeOnce: false });
    } finally {
      // Whether or not the write landed: the next listing lists the store as it is then.
      this.#keyNames.clear();
    }
    // Dropped, not set (see TtlCache): the next read loads the record as the store holds it then.
    this.#keys.delete(record.keyId);
    return record;
  }

  /**
   * Changes a key's metadata by compare-and-swap, retrying on a concurrent writer, so no update is
   * lost. `change` gets the current record and returns the new one; it may throw to refuse (a state
   * rule), and is called again on a retry. Throws {@link KeyNotFoundError}.
   */
  async updateKey(keyId: string, change: (current: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    const name = entryNames.key(keyId);
    for (;;) {
      const entry = isKeyId(keyId) ? await this.#store.get(name) : undefined;
      if (!entry) throw new KeyNotFoundError(keyId);
      const stored = decodeRecord<KeyRecord>(entry.value);
      // A change sees (and writes) expired imported material as gone.
      const next = change(this.#asOfNow(stored));
      try {
        await this.#store.update(name, entry.revision, encodeRecord(next));
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        throw err;
      }
      this.#keys.delete(keyId);
      return next;
    }
  }

  /**
   * Adds a version and makes it primary (rotation). Concurrent calls each add their own version;
   * all survive, and the primary is whichever wrote last. `rotated` sets the rotation dates.
   */
  async createVersion(
    key: Pick<KeyRecord, 'keyId' | 'keySpec'>,
    rotated: (record: KeyRecord, at: string) => KeyRecord = (r) => r,
  ): Promise<KeyVersionRecordInfo> {
    const { keyId } = key;
    // Of the key's spec (fixed for life): an RSA key's new version is a new key pair.
    const keyVersionId = await this.versions.add(keyId, { keySpec: key.keySpec });
    const info = await this.versions.info(keyId, keyVersionId);
    await this.updateKey(keyId, (current) => rotated({ ...current, primaryKeyVersion: keyVersionId }, info!.creationDate));
    return info!;
  }

  /**
   * A key's versions without material, oldest first. An imported key has its one version always,
   * whether or not its material is there now.
   */
  async versionsOf(key: KeyRecord): Promise<KeyVersionRecordInfo[]> {
    if (key.external) return [{ keyId: key.keyId, keyVersionId: key.primaryKeyVersion, creationDate: key.creationDate }];
    return this.versions.list(key.keyId);
  }

  /** See {@link ImportedMaterial.import}: ImportKeyMaterial. */
  importMaterial(keyId: string, material: Buffer, expireTime: string | undefined): Promise<KeyRecord> {
    return this.#imported.import(keyId, material, expireTime);
  }

  /** See {@link ImportedMaterial.delete}: DeleteKeyMaterial. */
  deleteMaterial(keyId: string): Promise<KeyRecord> {
    return this.#imported.delete(keyId);
  }

  /** See {@link ImportedMaterial.sweep}: the scheduled destruction of expired imported material. */
  sweepImportedMaterial(keyId: string): Promise<boolean> {
    return this.#imported.sweep(keyId);
  }

  /** The key record as stored now (past the cache), with expiry applied; or undefined. */
  async #readKey(keyId: string): Promise<KeyRecord | undefined> {
    const entry = isKeyId(keyId) ? await this.#store.get(entryNames.key(keyId)) : undefined;
    const record = entry && decodeRecord<KeyRecord>(entry.value);
    return record && this.#asOfNow(record);
  }

  /** The record as it stands now: an imported key's material past its expiry counts as gone. */
  #asOfNow(record: KeyRecord): KeyRecord {
    return record.external ? withMaterialExpiry(record, isoSeconds(this.#now())) : record;
  }

  /** The key import tokens are sealed under (made once per deployment, then cached). */
  importTokenKey(): Promise<Buffer> {
    this.#importTokenKey ??= loadImportTokenKey(this.#store).catch((err: unknown) => {
      this.#importTokenKey = undefined;
      throw err;
    });
    return this.#importTokenKey;
  }

  /**
   * Drops what this process caches of mutable entries (key records, aliases, listings): the store's change
   * marker moved, so another process may have changed any of them. Version material stays: it
   * never changes.
   */
  dropCachedState(): void {
    this.#keys.clear();
    this.#keyNames.clear();
    this.aliases.dropCache();
  }

  /** Every key id, in byte order: one listing of the store, cached as key records are when listings are (see KeyringOptions). */
  async listKeyIds(): Promise<string[]> {
    return (await this.#keyNames.names()).map((name) => name.slice('keys/'.length));
  }

  /**
   * Destroys a key whose deletion window has passed: its aliases, its versions' material and
   * index, then its record. Each step is idempotent and the record goes last, so a run that dies
   * half-way is finished by the next. Refuses a key that is not PendingDeletion past `deleteDate`.
   */
  async destroyKey(keyId: string, nowIso: string): Promise<void> {
    if (!(await this.#store.get(entryNames.key(keyId)))) return;
    // Claimed by compare-and-swap first: a CancelKeyDeletion that raced us either landed before
    // (and the due check fails here) or sees destructionStarted and is refused.
    await this.updateKey(keyId, (record) => {
      if (record.state !== 'PendingDeletion' || !record.deleteDate || record.deleteDate > nowIso) throw new KeyNotDueForDeletionError(keyId);
      return { ...record, destructionStarted: record.destructionStarted ?? nowIso };
    });
    await this.aliases.deleteAllOf(keyId);
    await this.#store.create(entryNames.destroyedKey(keyId), encodeRecord({ keyId, destroyedAt: nowIso }), { writeOnce: false }).catch((err: unknown) => {
      if (!(err instanceof EntryExistsError)) throw err;
    });
    const record = await this.#readKey(keyId);
    await this.versions.destroyAll(keyId, record?.external ? [record.primaryKeyVersion] : []);
    try {
      for (;;) {
        const entry = await this.#store.get(entryNames.key(keyId));
        if (!entry) break;
        try {
          await this.#store.delete(entryNames.key(keyId), entry.revision);
          break;
        } catch (err) {
          if (!(err instanceof RevisionConflictError || err instanceof EntryNotFoundError)) throw err;
        }
      }
    } finally {
      this.#keyNames.clear();
    }
    this.#keys.delete(keyId);
  }

  // ---- versions and aliases: one entry point for operations (see KeyVersions, Aliases) ----

  /** A version by id (with its material, from the cache), or undefined. */
  findVersion(keyVersionId: string): Promise<KeyVersion | undefined> {
    return this.versions.find(keyVersionId);
  }

  /** The id of the key a version belongs to, or undefined when there is no such version. */
  versionOwner(keyVersionId: string): Promise<string | undefined> {
    return this.versions.owner(keyVersionId);
  }

  addVersion(keyId: string, input: NewVersion): Promise<string> {
    return this.versions.add(keyId, input);
  }

  ensureVersionOwner(keyId: string, keyVersionId: string): Promise<void> {
    return this.versions.ensureOwner(keyId, keyVersionId);
  }

  getVersionRecord(keyId: string, keyVersionId: string): Promise<KeyVersionRecord | undefined> {
    return this.versions.record(keyId, keyVersionId);
  }

  getVersionInfo(keyId: string, keyVersionId: string): Promise<KeyVersionRecordInfo | undefined> {
    return this.versions.info(keyId, keyVersionId);
  }

  listVersions(keyId: string): Promise<KeyVersionRecordInfo[]> {
    return this.versions.list(keyId);
  }

  getAlias(aliasName: string): Promise<AliasRecord | undefined> {
    return this.aliases.get(aliasName);
  }

  readAlias(aliasName: string): Promise<AliasRecord | undefined> {
    return this.aliases.read(aliasName);
  }

  aliasPage(offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    return this.aliases.page(offset, limit);
  }

  aliasPageOfKey(keyId: string, offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    return this.aliases.pageOfKey(keyId, offset, limit);
  }

  createAlias(aliasName: string, keyId: string): Promise<AliasRecord> {
    return this.aliases.create(aliasName, keyId);
  }

  updateAlias(aliasName: string, keyId: string, expectedKeyId: string): Promise<AliasRecord> {
    return this.aliases.update(aliasName, keyId, expectedKeyId);
  }

  deleteAlias(aliasName: string, expectedKeyId: string): Promise<void> {
    return this.aliases.delete(aliasName, expectedKeyId);
  }

  seededAliasKey(aliasName: string): Promise<string | undefined> {
    return this.aliases.seededKey(aliasName);
  }

  markSeeded(aliasName: string, keyId: string): Promise<void> {
    return this.aliases.markSeeded(aliasName, keyId);
  }
}

/** The key is no longer due for destruction (a CancelKeyDeletion landed first): nothing was destroyed. */
export class KeyNotDueForDeletionError extends Error {
  override readonly name = 'KeyNotDueForDeletionError';
  constructor(keyId: string) {
    super(`key ${keyId} is not due for deletion`);
  }
}

/**
 * Cryptographic operations need an Enabled key; Decrypt too.
 * Throws {@link KeyDisabledError} / {@link KeyPendingDeletionError} / {@link KeyPendingImportError}.
 */
export function assertKeyUsable(key: KeyRecord): void {
  if (key.state === 'Disabled') throw new KeyDisabledError(key.keyId);
  if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
  if (key.state === 'PendingImport') throw new KeyPendingImportError(key.keyId);
}

export { EntryExistsError };
