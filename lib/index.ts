/**
 * The package's public API: a signed KMS client, the partition-key provisioner, and the
 * producer/consumer partition keys with record encryption. Everything else in the package is
 * internal and may change.
 *
 * @packageDocumentation
 */
export { createKmsClient, KmsApiError, KmsConnectionError, type ClientTls, type CreateKmsClientOptions, type KmsApi } from './client/kms-client.js';
export { provisionPartitions, PROVISION_DEFAULTS, type PartitionEvent, type ProvisionFailure, type ProvisionOptions, type ProvisionSummary } from './partitions/provision.js';
export {
  openPartitionKeys,
  PARTITION_KEYS_DEFAULTS,
  PartitionMismatchError,
  type PartitionDataKey,
  type PartitionKeys,
  type PartitionKeysOptions,
} from './partitions/partition-keys.js';
export { type PartitionEntry, PARTITION_CONTEXT_KEY } from './partitions/entry.js';
export {
  InvalidPartitionEventError,
  InvalidRecordError,
  InvalidRegistryEntryError,
  PartitionKeysError,
  PartitionNotFoundError,
  RegistryUnavailableError,
} from './partitions/errors.js';
export { DEFAULT_REGISTRY_URL, openRegistry } from './partitions/registry/open.js';
export type { PartitionRegistry } from './partitions/registry/registry.js';
