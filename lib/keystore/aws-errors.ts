import { awsErrorName, classifyAwsError, describeAwsError } from '@alibaba-kms-compatible/client/internal/aws-errors';
import { KeyStoreAccessDeniedError, KeyStoreBackendError, KeyStoreFailureError, KeyStoreUnavailableError } from './store-errors.js';

/*
 * AWS errors as the key stores see them: the classification (throttled, timeout, network, server,
 * access denied, failure) is shared with the S3 partition registry, in the client package; here it
 * becomes the store's error classes.
 */

export {
  awsErrorName,
  classifyAwsError,
  describeAwsError,
  isAwsError,
  isTransientAwsError,
  type AwsErrorClass,
} from '@alibaba-kms-compatible/client/internal/aws-errors';

/**
 * The key-store error for an AWS error, with the AWS error as `cause`. Errors that are already the
 * store's own (EntryExistsError, KeyStore*Error, …) pass through unchanged.
 */
export function translateAwsError(err: unknown, operation: string, entry: string | undefined): Error {
  if (err instanceof KeyStoreBackendError) return err;
  const kind = classifyAwsError(err);
  if (kind.kind === 'unavailable') return new KeyStoreUnavailableError(kind.reason, operation, entry, { cause: err, detail: describeAwsError(err) });
  if (kind.kind === 'access-denied') return new KeyStoreAccessDeniedError(operation, entry, { cause: err, detail: describeAwsError(err) });
  if (isAwsShaped(err)) return new KeyStoreFailureError(operation, entry, describeAwsError(err), { cause: err });
  return err instanceof Error ? err : new KeyStoreFailureError(operation, entry, String(err));
}

/**
 * Errors from the SDK or the transport: SDK service exceptions carry `$metadata`; transport errors
 * a Node `code` or a smithy name. Our own domain errors (EntryExistsError, …) and programming
 * errors (TypeError from a bug) are not AWS errors and are not translated.
 */
function isAwsShaped(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { $metadata?: unknown; $fault?: unknown };
  return e.$metadata !== undefined || e.$fault !== undefined || (awsErrorName(err) ?? '').endsWith('Exception');
}
