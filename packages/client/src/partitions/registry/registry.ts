import type { PartitionEntry } from '../entry.js';

/**
 * Where partition data keys live once provisioned (encrypted, never in plaintext): one entry per
 * partition, created once and never overwritten — overwriting would make the partition's data
 * unreadable. Backends (one file each, one conformance suite for all): `file:<dir>`,
 * `s3://bucket/prefix`, `oss://bucket/prefix`; see {@link ./open.ts}.
 */
export interface PartitionRegistry {
  /** The registry's URL, as the user wrote it (for messages; it holds no secret). */
  readonly url: string;

  /**
   * Stores `entry` if its partition has none yet: `created`; if one exists (whatever it holds),
   * nothing is written: `existing`. Atomic and durable before it returns; of concurrent creates
   * for one partition exactly one is `created`. Throws RegistryUnavailableError (./../errors.ts) when the
   * backend cannot be reached or refuses.
   */
  create(entry: PartitionEntry): Promise<'created' | 'existing'>;

  /** The partition's entry, or undefined. Throws RegistryUnavailableError; a stored entry that is not valid throws InvalidRegistryEntryError (../errors.ts). */
  get(partitionId: string): Promise<PartitionEntry | undefined>;

  /** Every partition id that has an entry, in byte order. */
  list(): Promise<string[]>;
}

export type { PartitionEntry };
