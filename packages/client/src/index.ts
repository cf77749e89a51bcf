/**
 * The client of a KMS that speaks the Alibaba Cloud KMS API (2016-01-20) — this project's server
 * or Alibaba Cloud KMS itself: a signed API client, partition data keys (the provisioner, the
 * producers' and consumers' keys, the registries), the record and encrypted-file formats, and the
 * request signing (also `@alibaba-kms-compatible/client/signing` on its own).
 *
 * It needs none of the server's dependencies. The cloud SDKs of the `s3://` and `oss://`
 * registries are optional peer dependencies, loaded only when such a registry is opened.
 *
 * @packageDocumentation
 */
export {
  API_VERSION,
  createKmsClient,
  DEFAULT_AWS_REGION,
  DEFAULT_ENDPOINT,
  endpointUrl,
  KmsApiError,
  KmsClient,
  KmsConnectionError,
  type ApiParams,
  type ClientTls,
  type CreateKmsClientOptions,
  type KmsApi,
  type KmsApiClient,
  type KmsClientOptions,
  type KmsCredentials,
} from './kms-client.js';
export type {
  AsymmetricEncryptionAlgorithmName,
  BinaryInput,
  MacAlgorithmName,
  SigningAlgorithmName,
  UsedKeyVersion,
} from './key-operations.js';
export {
  createProvisioner,
  failureOf,
  partitionIdOf,
  provisionPartitions,
  PROVISION_DEFAULTS,
  type PartitionEvent,
  type ProvisionFailure,
  type Provisioner,
  type ProvisionOptions,
  type ProvisionSummary,
} from './partitions/provision.js';
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
export { DEFAULT_REGISTRY_URL, openRegistry, parseRegistryUrl, type OpenRegistryDeps, type RegistryLocation } from './partitions/registry/open.js';
export type { PartitionRegistry } from './partitions/registry/registry.js';
export { openRecord, readRecordHeader, RECORD_VERSION, sealRecord, type RecordHeader } from './partitions/record-format.js';
export { headerContext, openFile, readHeader, sealFile, type OpenFileOptions, type SealFileOptions } from './file-envelope/file.js';
export { DEFAULT_FRAME_SIZE, FileFormatError, FORMAT_VERSION, MAX_FRAME_SIZE, type FileHeader } from './file-envelope/format.js';
export { FrameAuthenticationError } from './file-envelope/streams.js';
export * from './signing/index.js';
