import { createKmsClient, type KmsApi } from '../kms-client.js';
import { type PartitionEntry, partitionIdSchema } from './entry.js';
import { InvalidPartitionEventError, InvalidRegistryEntryError, PartitionKeysError, PartitionNotFoundError } from './errors.js';
import { openRecord, readRecordHeader, sealRecord } from './record-format.js';
import { openRegistry } from './registry/open.js';
import type { PartitionRegistry } from './registry/registry.js';

/** Defaults of {@link openPartitionKeys}, declared once (a test pins them). */
export const PARTITION_KEYS_DEFAULTS = { cacheTtlMs: 5 * 60_000, maxUses: 1_000_000 } as const;

/** Options of {@link openPartitionKeys}. */
export interface PartitionKeysOptions {
  /** The KMS endpoint (this service's gateway, or Alibaba Cloud KMS); see createKmsClient. */
  endpoint?: string;
  /** The producer's or consumer's access key: it needs kms:Decrypt on the partitions' CMK. */
  accessKeyId: string;
  accessKeySecret: string;
  regionId?: string;
  /** Where the provisioner put the partitions' encrypted data keys: `file:<dir>`, `s3://…`, `oss://…`, or a registry. */
  registry: string | PartitionRegistry;
  /** How long a decrypted data key is kept in memory (default 5 minutes). */
  cacheTtlMs?: number;
  /** How many records one cached data key may serve before it is decrypted afresh (default 1,000,000). */
  maxUses?: number;
  /** A KMS client to use instead of one built from the options above (tests, custom transports). */
  kms?: KmsApi;
}

/**
 * A partition's data key in plaintext, with its registry entry's public parts (the encrypted key
 * and the context bound to it, for a header of one's own). The caller owns `plaintext` and should
 * zero it after use.
 */
export interface PartitionDataKey {
  partitionId: string;
  keyId: string;
  keyVersionId: string;
  ciphertextBlob: string;
  encryptionContext: Record<string, string>;
  plaintext: Buffer;
}

/** What {@link openPartitionKeys} returns. */
export interface PartitionKeys {
  /** Encrypts one record for a partition (see the record format in docs/partitions.md). */
  encryptRecord(partitionId: string, plaintext: Uint8Array | string, aad?: Uint8Array): Promise<Buffer>;
  /**
   * Decrypts a record; the partition is read from its header. With `options.partitionId`, a record
   * of any other partition is refused (a record moved between partitions' storage).
   */
  decryptRecord(record: Uint8Array, aad?: Uint8Array, options?: { partitionId?: string }): Promise<Buffer>;
  /** The partition's data key in plaintext (a copy: zero it when done). */
  dataKey(partitionId: string): Promise<PartitionDataKey>;
  /** Zeroes every cached data key; the object cannot be used afterwards. */
  close(): void;
}

interface CacheSlot {
  load: Promise<{ entry: PartitionEntry; key: Buffer }>;
  loadedAt?: number;
  uses: number;
  evicted: boolean;
}

/**
 * The producer/consumer side of partition keys: each partition's data key is read from the
 * registry, decrypted by the KMS with the caller's credential and the context bound to it, kept in
 * memory for a while (TTL and a use count), and zeroed when it leaves (eviction, `close()`).
 * Records are AES-256-GCM under a key derived from the partition's data key, with a header that
 * names the partition (see record-format.ts).
 *
 * Errors carry a `code`: {@link PartitionNotFoundError}, {@link InvalidRecordError},
 * {@link RegistryUnavailableError}, or the KMS's own refusal as a KmsApiError (`Forbidden.NoPermission`
 * when the caller's policy does not cover the partition).
 *
 * @example
 * ```ts
 * import { openPartitionKeys } from '@alibaba-kms-compatible/client';
 * const keys = openPartitionKeys({ endpoint: 'http://127.0.0.1:8080', accessKeyId, accessKeySecret, registry: 'file:./.kms-partitions' });
 * const record = await keys.encryptRecord('orders-2026-11', JSON.stringify(order));
 * const plaintext = await keys.decryptRecord(record);
 * keys.close();
 * ```
 */
export function openPartitionKeys(options: PartitionKeysOptions): PartitionKeys {
  const ttlMs = positive(options.cacheTtlMs ?? PARTITION_KEYS_DEFAULTS.cacheTtlMs, 'cacheTtlMs');
  const maxUses = positive(options.maxUses ?? PARTITION_KEYS_DEFAULTS.maxUses, 'maxUses');
  const kms = options.kms ?? createKmsClient(options);
  let registry: Promise<PartitionRegistry> | undefined;
  const registryOf = () => (registry ??= typeof options.registry === 'string' ? openRegistry(options.registry) : Promise.resolve(options.registry));
  const cache = new Map<string, CacheSlot>();
  let closed = false;

  const evict = (partitionId: string, slot: CacheSlot) => {
    if (slot.evicted) return;
    slot.evicted = true;
    if (cache.get(partitionId) === slot) cache.delete(partitionId);
    slot.load.then(
      ({ key }) => key.fill(0),
      () => undefined,
    );
  };

  const load = async (partitionId: string) => {
    const r = await registryOf();
    const entry = await r.get(partitionId);
    if (!entry) throw new PartitionNotFoundError(partitionId, r.url);
    const body = await kms.call('Decrypt', { CiphertextBlob: entry.ciphertextBlob, EncryptionContext: JSON.stringify(entry.encryptionContext) });
    const key = Buffer.from(String(body.Plaintext ?? ''), 'base64');
    if (key.length !== 32) {
      key.fill(0);
      throw new InvalidRegistryEntryError(`the data key of partition "${partitionId}" is not 32 bytes (was it provisioned with KeySpec AES_256?)`);
    }
    return { entry, key };
  };

  /** A copy of the partition's data key, counted as one use; the copy is the caller's to zero. */
  const acquire = async (partitionId: string): Promise<{ entry: PartitionEntry; key: Buffer }> => {
    const id = checkedPartitionId(partitionId);
    for (;;) {
      // Checked on every turn: a caller that waited on a load evicted by close() must not load again.
      if (closed) throw new InvalidPartitionEventError('the partition keys were closed');
      let slot = cache.get(id);
      if (!slot) {
        const fresh: CacheSlot = { load: load(id), uses: 0, evicted: false };
        fresh.load.then(
          () => {
            fresh.loadedAt = Date.now();
            // An idle key leaves memory at its TTL too, not only at its next use.
            setTimeout(() => evict(id, fresh), Math.min(ttlMs, 2 ** 31 - 1)).unref();
          },
          () => evict(id, fresh),
        );
        slot = fresh;
        cache.set(id, slot);
      }
      const loaded = await slot.load;
      // Evicted (and zeroed) while this caller waited, or expired though its timer has not run yet
      // (a busy or frozen event loop): load again.
      if (slot.evicted) continue;
      if (Date.now() - (slot.loadedAt ?? Date.now()) >= ttlMs) {
        evict(id, slot);
        continue;
      }
      const copy = Buffer.from(loaded.key);
      slot.uses += 1;
      if (slot.uses >= maxUses) evict(id, slot);
      return { entry: loaded.entry, key: copy };
    }
  };

  return {
    async encryptRecord(partitionId, plaintext, aad) {
      const { key } = await acquire(partitionId);
      const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
      try {
        return sealRecord(key, partitionId, bytes, aad);
      } finally {
        key.fill(0);
      }
    },
    async decryptRecord(record, aad, decryptOptions) {
      const header = readRecordHeader(record);
      if (decryptOptions?.partitionId !== undefined && decryptOptions.partitionId !== header.partitionId) {
        throw new PartitionMismatchError(decryptOptions.partitionId, header.partitionId);
      }
      const { key } = await acquire(header.partitionId);
      try {
        return openRecord(key, record, header, aad);
      } finally {
        key.fill(0);
      }
    },
    async dataKey(partitionId) {
      const { entry, key } = await acquire(partitionId);
      return {
        partitionId: entry.partitionId,
        keyId: entry.keyId,
        keyVersionId: entry.keyVersionId,
        ciphertextBlob: entry.ciphertextBlob,
        encryptionContext: { ...entry.encryptionContext },
        plaintext: key,
      };
    },
    close() {
      closed = true;
      for (const [id, slot] of [...cache]) evict(id, slot);
    },
  };
}

/** A record of one partition presented as another's. */
export class PartitionMismatchError extends PartitionKeysError {
  readonly code = 'InvalidRecord';
  constructor(expected: string, actual: string) {
    super(`the record belongs to partition "${actual}", not "${expected}"`);
  }
}

function checkedPartitionId(partitionId: string): string {
  const result = partitionIdSchema.safeParse(partitionId);
  if (!result.success) throw new InvalidPartitionEventError(`partitionId ${result.error.issues[0]!.message}`);
  return result.data;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}
