import { SOCKET_ERROR_CODES } from './socket-errors.js';
/**
 * AWS errors (SDK v3 service exceptions, and the Node/smithy errors of the transport beneath them)
 * sorted into failure classes, in this one place. The S3 partition registry classifies through
 * here, and so do the server's Secrets Manager and DynamoDB stores (which translate the classes to
 * their own errors).
 *
 * | AWS error                                                               | class                                |
 * |-------------------------------------------------------------------------|--------------------------------------|
 * | ThrottlingException, TooManyRequestsException, RequestLimitExceeded, …  | unavailable (`throttled`)            |
 * | TimeoutError, RequestTimeout, ETIMEDOUT, an aborted request             | unavailable (`timeout`)              |
 * | ECONNRESET, ECONNREFUSED, ENOTFOUND, EAI_AGAIN, EPIPE, …                | unavailable (`network`)              |
 * | InternalServiceError, InternalFailure, ServiceUnavailable, any 5xx      | unavailable (`server`)               |
 * | AccessDeniedException, UnrecognizedClient, ExpiredToken, Decryption/EncryptionFailure, no credentials | access denied |
 * | anything else (InvalidParameter, LimitExceeded, …)                      | failure                              |
 *
 * ResourceNotFoundException, ResourceExistsException and the conditional failures mean something
 * different for each operation (an absent entry, a taken name, a lost compare-and-swap); the store
 * handles them before classifying.
 */

/** What an AWS error means for availability. */
export type AwsErrorClass = { kind: 'unavailable'; reason: AwsUnavailableReason } | { kind: 'access-denied' } | { kind: 'failure' };

/** Why an AWS call could not be served now. */
export type AwsUnavailableReason = 'throttled' | 'timeout' | 'network' | 'server';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

const ACCESS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'AuthFailure',
  'CredentialsProviderError',
  // The KMS key protecting the secrets is disabled, deleted or not usable by this role.
  'DecryptionFailure',
  'EncryptionFailure',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);

const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);

const SERVER_NAMES = new Set([
  'InternalServiceError',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

const NETWORK_CODES = new Set([...SOCKET_ERROR_CODES, 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_GOAWAY_SESSION', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ABORT_ERR']);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
  cause?: unknown;
}

/** The AWS error code (`name` of an SDK v3 exception), or undefined for a non-error. */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const name = (err as AwsLikeError).name;
  return typeof name === 'string' ? name : undefined;
}

/** True when `err` is the AWS error `name` (one of them). */
export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

/** Classifies any error thrown by an AWS SDK v3 client's `send`. */
export function classifyAwsError(err: unknown): AwsErrorClass {
  if (typeof err !== 'object' || err === null) return { kind: 'failure' };
  const e = err as AwsLikeError;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (THROTTLING.has(name) || e.$retryable?.throttling === true || status === 429) return { kind: 'unavailable', reason: 'throttled' };
  if (ACCESS_DENIED.has(name)) return { kind: 'access-denied' };
  if (TIMEOUT_NAMES.has(name) || TIMEOUT_CODES.has(code)) return { kind: 'unavailable', reason: 'timeout' };
  if (NETWORK_CODES.has(code)) return { kind: 'unavailable', reason: 'network' };
  if (SERVER_NAMES.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500)) return { kind: 'unavailable', reason: 'server' };
  // A transport error wrapped by the SDK (no HTTP response at all) is a network failure.
  if (e.cause !== undefined && e.cause !== err) {
    const inner = classifyAwsError(e.cause);
    if (inner.kind === 'unavailable') return inner;
  }
  if (e.$metadata === undefined && (name === 'Error' || name === 'TypeError') && /socket|network|connect|fetch failed/i.test(String((err as Error).message))) {
    return { kind: 'unavailable', reason: 'network' };
  }
  return { kind: 'failure' };
}

/** True for errors worth retrying in place (throttling, timeouts, network, 5xx). */
export function isTransientAwsError(err: unknown): boolean {
  return classifyAwsError(err).kind === 'unavailable';
}

/** `Name: message` of an AWS error, cut short, for logs and error messages (never a value). */
export function describeAwsError(err: unknown): string {
  const name = awsErrorName(err) ?? 'Error';
  const code = typeof (err as AwsLikeError)?.code === 'string' ? ` (${(err as AwsLikeError).code as string})` : '';
  const message = err instanceof Error ? err.message : String(err);
  const text = `${name}${code}: ${message}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
