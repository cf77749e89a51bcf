import { randomBytes, randomUUID } from 'node:crypto';
import {
  AliasChangedError,
  AliasNotFoundError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyPendingDeletionError,
  KeyVersionNotFoundError,
} from '../errors.js';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { TtlCache } from '../ttl-cache.js';
import { isoSeconds } from '../time.js';
import { AliasIndex } from './alias-index.js';
import { addSeconds } from './rotation.js';
import { type ArnScope, isKeyId, isKeyVersionId, keyArn } from './key-id.js';
import {
  type AliasRecord,
  decodeRecord,
  encodeRecord,
  entryNames,
  KEY_MATERIAL_BYTES,
  type KeyRecord,
  type KeyState,
  type KeyVersionRecord,
} from './records.js';

export interface KeyringOptions extends ArnScope {
  /** How long key metadata and aliases read from the store are trusted; versions are immutable and cached until evicted. */
  cacheTtlMs: number;
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
}

/** What a new key or version is made of; every field may be left to the keyring. */
export interface NewVersion {
  keyVersionId?: string;
  /** 32 bytes; random when absent. The keyring zeroes its own copy, never the caller's. */
  material?: Buffer;
}

/**
 * The keyring: resolves `KeyId` parameters to keys, finds the key a ciphertext's version belongs
 * to, and serves version material, all cached above the key store. Key-version logic lives here
 * and nowhere else; it knows nothing of HTTP.
 *
 * Material cache: a version's material never changes, so it stays cached until evicted by size;
 * evicted buffers are zeroed.
 */
export class Keyring {
  readonly scope: ArnScope;
  readonly #store: KeyStore;
  readonly #keys: TtlCache<string, KeyRecord | undefined>;
  readonly #aliases: TtlCache<string, AliasRecord | undefined>;
  readonly #aliasIndex: AliasIndex;
  readonly #versions: TtlCache<string, KeyVersion | undefined>;
  readonly #now: () => number;

  constructor(store: KeyStore, options: KeyringOptions) {
    this.#store = store;
    this.scope = { region: options.region, accountId: options.accountId };
    this.#now = options.now ?? Date.now;
    const cache = { ttlMs: options.cacheTtlMs, maxEntries: 10_000, now: this.#now };
    this.#keys = new TtlCache(cache);
    this.#aliases = new TtlCache(cache);
    this.#aliasIndex = new AliasIndex(store);
    this.#versions = new TtlCache({
      ttlMs: Number.MAX_SAFE_INTEGER,
      maxEntries: 10_000,
      now: this.#now,
      // Zeroed a little later, not at once: a request that already holds the buffer finishes first.
      onEvict: (version) => {
        if (version) setTimeout(() => version.material.fill(0), 10_000).unref();
      },
    });
  }

  arnOf(keyId: string): string {
    return keyArn(this.scope, keyId);
  }

  /** The key with its ARN, or undefined. */
  async findKey(keyId: string): Promise<ResolvedKey | undefined> {
    const key = await this.getKey(keyId);
    return key && { ...key, arn: this.arnOf(key.keyId) };
  }

  /** A version by id (with its material, from the cache), or undefined. */
  findVersion(keyVersionId: string): Promise<KeyVersion | undefined> {
    return this.#version(keyVersionId);
  }

  /** The id of the key a version belongs to, or undefined when there is no such version. */
  async versionOwner(keyVersionId: string): Promise<string | undefined> {
    if (!isKeyVersionId(keyVersionId)) return undefined;
    const owner = await this.#store.get(entryNames.versionOwner(keyVersionId));
    return owner?.value.toString('utf8');
  }

  /** The key's primary version, which every new encryption uses. */
  async primaryVersion(key: KeyRecord): Promise<KeyVersion> {
    const version = await this.#version(key.primaryKeyVersion);
    if (!version || version.keyId !== key.keyId) throw new KeyVersionNotFoundError(key.primaryKeyVersion);
    return version;
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    if (!isKeyId(keyId)) return undefined;
    return this.#keys.get(keyId, async () => {
      const entry = await this.#store.get(entryNames.key(keyId));
      return entry && decodeRecord<KeyRecord>(entry.value);
    });
  }

  async getAlias(aliasName: string): Promise<AliasRecord | undefined> {
    return this.#aliases.get(aliasName, async () => {
      const entry = await this.#store.get(entryNames.alias(aliasName));
      return entry && decodeRecord<AliasRecord>(entry.value);
    });
  }

  /** Whether a key was destroyed (or its destruction began): such a key id is never brought back. */
  async wasDestroyed(keyId: string): Promise<boolean> {
    if (!isKeyId(keyId)) return false;
    if (await this.#store.get(entryNames.destroyedKey(keyId))) return true;
    return (await this.getKey(keyId))?.destructionStarted !== undefined;
  }

  /** The key a seed bound this alias to when it created it (see entryNames.seededAlias), or undefined. */
  async seededAliasKey(aliasName: string): Promise<string | undefined> {
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

  /** A version's record as stored (with Base64 material), or undefined; for the seed's comparisons. */
  async getVersionRecord(keyId: string, keyVersionId: string): Promise<KeyVersionRecord | undefined> {
    const entry = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
    return entry && decodeRecord<KeyVersionRecord>(entry.value);
  }

  /**
   * Creates a key with its first versions (one random version when none is given); the primary is
   * `primaryKeyVersion` or the last one. Throws {@link EntryExistsError} when the key or a version exists.
   */
  async createKey(input: NewKey & { versions?: NewVersion[] }): Promise<KeyRecord> {
    const keyId = input.keyId ?? randomUUID();
    const versionIds: string[] = [];
    for (const version of input.versions?.length ? input.versions : [{}]) versionIds.push(await this.addVersion(keyId, version));
    return this.createKeyRecord({ ...input, keyId, primaryKeyVersion: input.primaryKeyVersion ?? versionIds[versionIds.length - 1]! });
  }

  /**
   * Writes the metadata of a key whose versions exist already. Versions are always written before
   * the key record, so a crash leaves at worst unreachable versions, never a key without material.
   * Throws {@link EntryExistsError} when the key exists.
   */
  async createKeyRecord(input: NewKey & { keyId: string; primaryKeyVersion: string }): Promise<KeyRecord> {
    const primary = await this.#version(input.primaryKeyVersion);
    if (!primary || primary.keyId !== input.keyId) throw new KeyVersionNotFoundError(input.primaryKeyVersion);
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
    };
    await this.#store.create(entryNames.key(record.keyId), encodeRecord(record), { writeOnce: false });
    this.#keys.set(record.keyId, record);
    return record;
  }

  /**
   * Writes a new version of a key (material first, then the index from version to key; both
   * write-once) and returns its id. It does not make the version primary.
   * Throws {@link EntryExistsError} when the version id is taken.
   */
  async addVersion(keyId: string, input: NewVersion): Promise<string> {
    const keyVersionId = input.keyVersionId ?? randomUUID();
    if (!isKeyId(keyId)) throw new Error(`key id "${keyId}" is not a UUID or key-… id`);
    if (!isKeyVersionId(keyVersionId)) throw new Error(`key version id "${keyVersionId}" is not a UUID`);
    if (input.material && input.material.length !== KEY_MATERIAL_BYTES) throw new Error(`key material must be ${KEY_MATERIAL_BYTES} bytes`);
    const material = input.material ? Buffer.from(input.material) : randomBytes(KEY_MATERIAL_BYTES);
    const createdAtMs = this.#now();
    const record: KeyVersionRecord = { keyId, keyVersionId, creationDate: isoSeconds(createdAtMs), createdAtMs, material: material.toString('base64') };
    const encoded = encodeRecord(record);
    try {
      await this.#store.create(entryNames.keyVersion(keyId, keyVersionId), encoded, { writeOnce: true });
      await this.#store.create(entryNames.versionOwner(keyVersionId), Buffer.from(keyId, 'utf8'), { writeOnce: true });
    } finally {
      encoded.fill(0);
      material.fill(0);
    }
    return keyVersionId;
  }

  /**
   * Writes the index from a version to its key if it is missing: {@link addVersion} writes the
   * material first, so a crash in between leaves a version that Decrypt and createKeyRecord cannot
   * find. Idempotent.
   */
  async ensureVersionOwner(keyId: string, keyVersionId: string): Promise<void> {
    try {
      await this.#store.create(entryNames.versionOwner(keyVersionId), Buffer.from(keyId, 'utf8'), { writeOnce: true });
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
    }
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
      const next = change(decodeRecord<KeyRecord>(entry.value));
      try {
        await this.#store.update(name, entry.revision, encodeRecord(next));
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        throw err;
      }
      this.#keys.set(keyId, next);
      return next;
    }
  }

  /**
   * Adds a version and makes it primary (rotation). Concurrent calls each add their own version;
   * all survive, and the primary is whichever wrote last. `rotated` sets the rotation dates.
   */
  async createVersion(keyId: string, rotated: (record: KeyRecord, at: string) => KeyRecord = (r) => r): Promise<KeyVersionRecordInfo> {
    const keyVersionId = await this.addVersion(keyId, {});
    const info = await this.getVersionInfo(keyId, keyVersionId);
    await this.updateKey(keyId, (current) => rotated({ ...current, primaryKeyVersion: keyVersionId }, info!.creationDate));
    return info!;
  }

  /** Every key id, in byte order. */
  async listKeyIds(): Promise<string[]> {
    return (await this.#store.list('keys/')).map((name) => name.slice('keys/'.length));
  }

  /** A key's versions without their material, oldest first. */
  async listVersions(keyId: string): Promise<KeyVersionRecordInfo[]> {
    const names = await this.#store.list(`key-versions/${keyId}/`);
    const versions: KeyVersionRecordInfo[] = [];
    for (const name of names) {
      const info = await this.getVersionInfo(keyId, name.slice(name.lastIndexOf('/') + 1));
      if (info) versions.push(info);
    }
    // CreationDate has whole seconds; versions made within one second are ordered by the millisecond.
    const at = (v: KeyVersionRecordInfo) => v.createdAtMs ?? Date.parse(v.creationDate);
    return versions.sort((a, b) => at(a) - at(b) || (a.keyVersionId < b.keyVersionId ? -1 : 1));
  }

  /** A version's id and creation date (no material), or undefined. */
  async getVersionInfo(keyId: string, keyVersionId: string): Promise<KeyVersionRecordInfo | undefined> {
    if (!isKeyId(keyId) || !isKeyVersionId(keyVersionId)) return undefined;
    const entry = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
    if (!entry) return undefined;
    const record = decodeRecord<KeyVersionRecord>(entry.value);
    entry.value.fill(0);
    return {
      keyId: record.keyId,
      keyVersionId: record.keyVersionId,
      creationDate: record.creationDate,
      ...(record.createdAtMs === undefined ? {} : { createdAtMs: record.createdAtMs }),
    };
  }

  /**
   * One page of every alias, by name, and how many there are: names come from one listing, and
   * only the page's aliases are read.
   */
  async aliasPage(offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    const names = await this.#store.list('aliases/');
    const aliases: AliasRecord[] = [];
    for (const name of names.slice(offset, offset + limit)) {
      const entry = await this.#store.get(name);
      // Deleted since the listing: the page is one shorter, as if it had gone a moment earlier.
      if (entry) aliases.push(decodeRecord<AliasRecord>(entry.value));
    }
    return { aliases, total: names.length };
  }

  /** One page of one key's aliases, by name, and how many it has: reads that key's index and the page (see AliasIndex). */
  aliasPageOfKey(keyId: string, offset: number, limit: number): Promise<{ aliases: AliasRecord[]; total: number }> {
    return this.#aliasIndex.page(keyId, offset, limit);
  }

  /**
   * The alias as the store has it now, bypassing the cache: for changes that must be authorised on
   * the key the alias really names.
   */
  async readAlias(aliasName: string): Promise<AliasRecord | undefined> {
    const entry = await this.#store.get(entryNames.alias(aliasName));
    return entry && decodeRecord<AliasRecord>(entry.value);
  }

  /**
   * Rebinds an existing alias to another key, if it still names `expectedKeyId` (the key the caller
   * was authorised on). Throws {@link AliasNotFoundError}, or {@link AliasChangedError} when
   * another writer rebound it in between.
   */
  async updateAlias(aliasName: string, keyId: string, expectedKeyId: string): Promise<AliasRecord> {
    const name = entryNames.alias(aliasName);
    for (;;) {
      const entry = await this.#store.get(name);
      if (!entry) throw new AliasNotFoundError(aliasName);
      if (decodeRecord<AliasRecord>(entry.value).keyId !== expectedKeyId) throw new AliasChangedError(aliasName);
      const record: AliasRecord = { aliasName, keyId };
      await this.#aliasIndex.add(keyId, aliasName);
      try {
        await this.#store.update(name, entry.revision, encodeRecord(record));
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        if (err instanceof EntryNotFoundError) throw new AliasNotFoundError(aliasName);
        throw err;
      }
      this.#aliases.set(aliasName, record);
      await this.#aliasIndex.add(keyId, aliasName);
      await this.#aliasIndex.removeIfStale(expectedKeyId, aliasName);
      return record;
    }
  }

  /**
   * Removes an alias, if it still names `expectedKeyId` (the key the caller was authorised on).
   * Throws {@link AliasNotFoundError}, or {@link AliasChangedError} when another writer rebound it.
   */
  async deleteAlias(aliasName: string, expectedKeyId: string): Promise<void> {
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
      }
      this.#aliases.delete(aliasName);
      await this.#aliasIndex.removeIfStale(expectedKeyId, aliasName);
      return;
    }
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
      if (record.state !== 'PendingDeletion' || !record.deleteDate || record.deleteDate > nowIso) {
        throw new Error(`key ${keyId} is not due for deletion`);
      }
      return { ...record, destructionStarted: record.destructionStarted ?? nowIso };
    });
    // Every alias, not the index alone: a rare job, and an alias the index missed (written by an
    // older version mid-upgrade) must not outlive its key.
    for (const name of await this.#store.list('aliases/')) {
      const entry = await this.#store.get(name);
      const alias = entry && decodeRecord<AliasRecord>(entry.value);
      // Only while it still names this key: an alias moved to another key in between stays.
      if (alias?.keyId === keyId) await this.deleteAlias(alias.aliasName, keyId).catch(() => undefined);
    }
    await this.#aliasIndex.dropKey(keyId);
    await this.#store.create(entryNames.destroyedKey(keyId), encodeRecord({ keyId, destroyedAt: nowIso }), { writeOnce: false }).catch((err: unknown) => {
      if (!(err instanceof EntryExistsError)) throw err;
    });
    for (const name of await this.#store.list(`key-versions/${keyId}/`)) {
      const keyVersionId = name.slice(name.lastIndexOf('/') + 1);
      await this.#store.destroy(entryNames.versionOwner(keyVersionId));
      await this.#store.destroy(name);
      this.#versions.delete(keyVersionId);
    }
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
    this.#keys.delete(keyId);
  }

  /** Binds a new alias. Throws {@link EntryExistsError} when the alias exists. */
  async createAlias(aliasName: string, keyId: string): Promise<AliasRecord> {
    const record: AliasRecord = { aliasName, keyId };
    await this.#aliasIndex.add(keyId, aliasName);
    try {
      await this.#store.create(entryNames.alias(aliasName), encodeRecord(record), { writeOnce: false });
    } catch (err) {
      if (err instanceof EntryExistsError) await this.#aliasIndex.removeIfStale(keyId, aliasName);
      throw err;
    }
    this.#aliases.set(aliasName, record);
    // Again after: a concurrent removal of a stale entry may have run between the two writes.
    await this.#aliasIndex.add(keyId, aliasName);
    return record;
  }

  async #version(keyVersionId: string): Promise<KeyVersion | undefined> {
    if (!isKeyVersionId(keyVersionId)) return undefined;
    const version = await this.#versions.get(keyVersionId, async () => {
      const owner = await this.#store.get(entryNames.versionOwner(keyVersionId));
      if (!owner) return undefined;
      const entry = await this.#store.get(entryNames.keyVersion(owner.value.toString('utf8'), keyVersionId));
      if (!entry) return undefined;
      const record = decodeRecord<KeyVersionRecord>(entry.value);
      entry.value.fill(0);
      return { keyId: record.keyId, keyVersionId: record.keyVersionId, material: Buffer.from(record.material, 'base64') };
    });
    // Absence is not cached: versions cache forever, and another process may add this one.
    if (!version) this.#versions.delete(keyVersionId);
    return version;
  }

}

/** A version as listed: never its material. */
export interface KeyVersionRecordInfo {
  keyId: string;
  keyVersionId: string;
  creationDate: string;
  /** Internal ordering only (see {@link KeyVersionRecord.createdAtMs}); never in a response. */
  createdAtMs?: number;
}

/** A version ready for use. `material` belongs to the keyring's cache: never zero or keep it. */
export interface KeyVersion {
  keyId: string;
  keyVersionId: string;
  material: Buffer;
}

/**
 * Cryptographic operations need an Enabled key; Decrypt too.
 * Throws {@link KeyDisabledError} / {@link KeyPendingDeletionError}.
 */
export function assertKeyUsable(key: KeyRecord): void {
  if (key.state === 'Disabled') throw new KeyDisabledError(key.keyId);
  if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
}

export { EntryExistsError };
