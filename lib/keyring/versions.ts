import { type KeyObject, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { generateKeyPairDer, loadKeyPair } from '../crypto/key-pair.js';
import { forgetSigningKey } from '../crypto/signature.js';
import { hmacKeyBytes, isAsymmetric, type KeySpec, type KeySpecInfo, specOf } from '../crypto/key-spec.js';
import { EntryExistsError, type KeyStore } from '../keystore/key-store.js';
import { TtlCache } from '../ttl-cache.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { isKeyId, isKeyVersionId } from './key-id.js';
import { decodeRecord, encodeRecord, entryNames, KEY_MATERIAL_BYTES, type KeyVersionRecord } from './records.js';

/** What a new version is made of; every field may be left to the keyring. */
export interface NewVersion {
  keyVersionId?: string;
  /** Absent: `Aliyun_AES_256`. */
  keySpec?: KeySpec;
  /** An AES key's 32 bytes (the seed's); new material of the spec when absent. The keyring zeroes its own copy, never the caller's. */
  material?: Buffer;
}

/** A version as listed: never its material. */
export interface KeyVersionRecordInfo {
  keyId: string;
  keyVersionId: string;
  creationDate: string;
  /** Internal ordering only (see {@link KeyVersionRecord.createdAtMs}); never in a response. */
  createdAtMs?: number;
}

/**
 * A version ready for use. `material` belongs to the keyring's cache: never zero or keep it. It is
 * the key for a symmetric or HMAC version; an RSA or EC version has its key pair instead (parsed
 * once, when the version is read) and empty `material`.
 */
export interface KeyVersion {
  keyId: string;
  keyVersionId: string;
  spec: KeySpecInfo;
  material: Buffer;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

/** New key material of a spec: random bytes for AES and HMAC keys, a new key pair's PKCS #8 DER for RSA and EC keys. */
async function newMaterial(spec: KeySpecInfo): Promise<Buffer> {
  if (spec.kind === 'symmetric') return randomBytes(KEY_MATERIAL_BYTES);
  if (spec.kind === 'hmac') return randomBytes(hmacKeyBytes(spec));
  return (await generateKeyPairDer(spec)).privateKeyPkcs8;
}

/**
 * Key versions: their material (write-once, `key-versions/<keyId>/<keyVersionId>`) and the index
 * from a version to its key (write-once, `version-index/<keyVersionId>`), which a ciphertext's
 * version id is resolved through.
 *
 * Material cache: a version's material never changes, so it stays cached until evicted by size;
 * evicted buffers are zeroed.
 */
export class KeyVersions {
  readonly #store: KeyStore;
  readonly #now: () => number;
  readonly #cache: TtlCache<string, KeyVersion | undefined>;

  constructor(store: KeyStore, options: { now: () => number }) {
    this.#store = store;
    this.#now = options.now;
    this.#cache = new TtlCache({
      ttlMs: Number.MAX_SAFE_INTEGER,
      maxEntries: 10_000,
      now: this.#now,
      name: 'versions',
      // Zeroed a little later, not at once: a request that already holds the buffer finishes first.
      // A signing key's derived private scalar (ECDSA over a digest) is wiped with it.
      onEvict: (version) => {
        if (version)
          setTimeout(() => {
            version.material.fill(0);
            if (version.privateKey) forgetSigningKey(version.privateKey);
          }, 10_000).unref();
      },
    });
  }

  /** A version by id, with its material (cached), or undefined. */
  async find(keyVersionId: string): Promise<KeyVersion | undefined> {
    if (!isKeyVersionId(keyVersionId)) return undefined;
    const version = await this.#cache.get(keyVersionId, async () => {
      const owner = await this.#store.get(entryNames.versionOwner(keyVersionId));
      return owner ? this.#load(owner.value.toString('utf8'), keyVersionId) : undefined;
    });
    // Absence is not cached: versions cache forever, and another process may add this one.
    if (!version) this.#cache.delete(keyVersionId);
    return version;
  }

  /**
   * A version of a key known already (the primary version a key record names), read by its own
   * entry name: one read, where {@link find} first reads the index to learn the key. Shares
   * find's cache; undefined when the key has no such version.
   */
  async findOfKey(keyId: string, keyVersionId: string): Promise<KeyVersion | undefined> {
    if (!isKeyId(keyId) || !isKeyVersionId(keyVersionId)) return undefined;
    const version = await this.#cache.get(keyVersionId, () => this.#load(keyId, keyVersionId));
    if (!version) this.#cache.delete(keyVersionId);
    return version?.keyId === keyId ? version : undefined;
  }

  /** The material entry `key-versions/<keyId>/<keyVersionId>`, decoded (the stored bytes zeroed), or undefined. */
  async #load(keyId: string, keyVersionId: string): Promise<KeyVersion | undefined> {
    const entry = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
    if (!entry) return undefined;
    const record = decodeRecord<KeyVersionRecord>(entry.value);
    entry.value.fill(0);
    const spec = specOf(record);
    const material = Buffer.from(record.material, 'base64');
    if (!isAsymmetric(spec)) return { keyId: record.keyId, keyVersionId: record.keyVersionId, spec, material };
    try {
      return { keyId: record.keyId, keyVersionId: record.keyVersionId, spec, material: Buffer.alloc(0), ...loadKeyPair(material) };
    } finally {
      material.fill(0);
    }
  }

  /** The id of the key a version belongs to, or undefined when there is no such version. */
  async owner(keyVersionId: string): Promise<string | undefined> {
    if (!isKeyVersionId(keyVersionId)) return undefined;
    // A version in the cache names its key (versions never move): no read.
    if (this.#cache.has(keyVersionId)) {
      const cached = await this.#cache.get(keyVersionId, () => this.find(keyVersionId));
      if (cached) return cached.keyId;
    }
    const owner = await this.#store.get(entryNames.versionOwner(keyVersionId));
    return owner?.value.toString('utf8');
  }

  /**
   * Writes a new version of a key (material first, then the index from version to key; both
   * write-once) and returns its id. It does not make the version primary.
   * Throws {@link EntryExistsError} when the version id is taken.
   */
  async add(keyId: string, input: NewVersion): Promise<string> {
    const keyVersionId = input.keyVersionId ?? randomUUID();
    if (!isKeyId(keyId)) throw new Error(`key id "${keyId}" is not a UUID or key-… id`);
    if (!isKeyVersionId(keyVersionId)) throw new Error(`key version id "${keyVersionId}" is not a UUID`);
    const spec = specOf(input);
    if (input.material && (spec.kind !== 'symmetric' || input.material.length !== KEY_MATERIAL_BYTES))
      throw new Error(`key material must be ${KEY_MATERIAL_BYTES} bytes of an AES key`);
    const material = input.material ? Buffer.from(input.material) : await newMaterial(spec);
    const createdAtMs = this.#now();
    const record: KeyVersionRecord = {
      keyId,
      keyVersionId,
      creationDate: isoSeconds(createdAtMs),
      createdAtMs,
      ...(spec.kind === 'symmetric' ? {} : { keySpec: spec.spec }),
      material: material.toString('base64'),
    };
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
   * Writes the index from a version to its key if it is missing: {@link add} writes the material
   * first, so a crash in between leaves a version that Decrypt cannot find. Idempotent.
   */
  async ensureOwner(keyId: string, keyVersionId: string): Promise<void> {
    try {
      await this.#store.create(entryNames.versionOwner(keyVersionId), Buffer.from(keyId, 'utf8'), { writeOnce: true });
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
    }
  }

  /**
   * Writes the material of an imported (EXTERNAL) key's one version, whose id and index were
   * made with the key. Write-once as every version: when the entry is there already (a re-import,
   * or an import that died before binding) the stored material is compared in constant time:
   * `same` or `other`. The caller keeps and zeroes `material`.
   */
  async putImported(keyId: string, keyVersionId: string, material: Buffer, creationDate: string): Promise<'created' | 'same' | 'other'> {
    const record: KeyVersionRecord = { keyId, keyVersionId, creationDate, createdAtMs: Date.parse(creationDate), material: material.toString('base64') };
    const encoded = encodeRecord(record);
    try {
      await this.#store.create(entryNames.keyVersion(keyId, keyVersionId), encoded, { writeOnce: true });
      return 'created';
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
      const existing = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
      if (!existing) return 'other';
      const stored = Buffer.from(decodeRecord<KeyVersionRecord>(existing.value).material, 'base64');
      existing.value.fill(0);
      try {
        return stored.length === material.length && timingSafeEqual(stored, material) ? 'same' : 'other';
      } finally {
        stored.fill(0);
      }
    } finally {
      encoded.fill(0);
    }
  }

  /**
   * Destroys one version's material and keeps its index (DeleteKeyMaterial, expired imported
   * material): blobs still name their key, which answers PendingImport until the same material
   * is imported again. Idempotent.
   */
  async destroyMaterial(keyId: string, keyVersionId: string): Promise<void> {
    await this.#store.destroy(entryNames.keyVersion(keyId, keyVersionId));
    this.#cache.delete(keyVersionId);
  }

  /** Whether a version's material entry exists (no material read into the cache). */
  async hasMaterial(keyId: string, keyVersionId: string): Promise<boolean> {
    const entry = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
    entry?.value.fill(0);
    return entry !== undefined;
  }

  /** A version's record as stored (with Base64 material), or undefined; for the seed's comparisons. */
  async record(keyId: string, keyVersionId: string): Promise<KeyVersionRecord | undefined> {
    const entry = await this.#store.get(entryNames.keyVersion(keyId, keyVersionId));
    return entry && decodeRecord<KeyVersionRecord>(entry.value);
  }

  /** A version's id and creation date (no material), or undefined. */
  async info(keyId: string, keyVersionId: string): Promise<KeyVersionRecordInfo | undefined> {
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

  /** A key's versions without their material, oldest first. */
  async list(keyId: string): Promise<KeyVersionRecordInfo[]> {
    const names = await this.#store.list(`key-versions/${keyId}/`);
    const versions: KeyVersionRecordInfo[] = [];
    for (const name of names) {
      const info = await this.info(keyId, name.slice(name.lastIndexOf('/') + 1));
      if (info) versions.push(info);
    }
    // CreationDate has whole seconds; versions made within one second are ordered by the millisecond.
    const at = (v: KeyVersionRecordInfo) => v.createdAtMs ?? Date.parse(v.creationDate);
    return versions.sort((a, b) => at(a) - at(b) || (a.keyVersionId < b.keyVersionId ? -1 : 1));
  }

  /**
   * Destroys every version of a key: the index entry, then the material. `alsoVersionIds` names
   * versions whose material may be gone already (an imported key's), so their index goes too.
   */
  async destroyAll(keyId: string, alsoVersionIds: readonly string[] = []): Promise<void> {
    const names = new Set(await this.#store.list(`key-versions/${keyId}/`));
    for (const keyVersionId of alsoVersionIds) names.add(entryNames.keyVersion(keyId, keyVersionId));
    for (const name of names) {
      const keyVersionId = name.slice(name.lastIndexOf('/') + 1);
      await this.#store.destroy(entryNames.versionOwner(keyVersionId));
      await this.#store.destroy(name);
      this.#cache.delete(keyVersionId);
    }
  }
}
