/**
 * Failures of the partition-key library, one class each, every one carrying a `code` as the API's
 * errors do (a refusal by the KMS itself is a {@link KmsApiError} with the API's Code). Messages
 * never carry a data key or a secret.
 */
export abstract class PartitionKeysError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A provisioning event (or an argument) that cannot be used: the message says which field and why. */
export class InvalidPartitionEventError extends PartitionKeysError {
  readonly code = 'InvalidParameter';
}

/** The registry has no entry for the partition: it was never provisioned (or another registry was named). */
export class PartitionNotFoundError extends PartitionKeysError {
  readonly code = 'PartitionNotFound';
  constructor(
    readonly partitionId: string,
    registry: string,
  ) {
    super(`partition "${partitionId}" has no data key in the registry ${registry}`);
  }
}

/** The registry could not be reached, or refused (permissions, a full disk). Retryable. */
export class RegistryUnavailableError extends PartitionKeysError {
  readonly code = 'RegistryUnavailable';
}

/** A stored registry entry is not a valid entry (damaged, or written by something else). */
export class InvalidRegistryEntryError extends PartitionKeysError {
  readonly code = 'InvalidRegistryEntry';
}

/** A record (or a partition-keyed file) that is not one, is damaged, or does not authenticate. */
export class InvalidRecordError extends PartitionKeysError {
  readonly code = 'InvalidRecord';
}
