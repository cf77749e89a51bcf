import { KmsError } from '../../errors.js';
import type { RpcResponse } from '../../rpc/request.js';
import { duplicateJsonKey } from '../../strict-json.js';
import { AWS_TARGET_PREFIXES, type AwsService } from './binding.js';

/**
 * The AWS JSON protocol (awsJson1_1) of AWS KMS and AWS Secrets Manager: `POST /`,
 * `X-Amz-Target: TrentService.<Operation>` or `secretsmanager.<Operation>`, a JSON body.
 */
export const AWS_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const AWS_TARGET_PREFIX = AWS_TARGET_PREFIXES.kms;

/**
 * The `__type` AWS sends for each of this service's error Codes (statuses: AWS's 400 for every
 * client error, 500 for an internal one; a store that cannot serve stays 503, throttling 400 as
 * AWS answers it, a dry run 412). Codes not listed are ValidationException.
 */
const AWS_TYPES: Readonly<Record<string, readonly [type: string, status?: number]>> = {
  MissingParameter: ['ValidationException'],
  InvalidParameter: ['ValidationException'],
  RequestEntityTooLarge: ['ValidationException', 413],
  UnsupportedMediaType: ['SerializationException'],
  MalformedRequest: ['SerializationException'],
  IncompleteSignature: ['IncompleteSignatureException'],
  SignatureDoesNotMatch: ['InvalidSignatureException'],
  IllegalTimestamp: ['InvalidSignatureException'],
  'InvalidTimeStamp.Expired': ['InvalidSignatureException'],
  SignatureNonceUsed: ['InvalidSignatureException'],
  'InvalidAccessKeyId.NotFound': ['UnrecognizedClientException'],
  'InvalidAccessKeyId.Inactive': ['UnrecognizedClientException'],
  'InvalidAction.NotFound': ['UnknownOperationException'],
  'Forbidden.NoPermission': ['AccessDeniedException'],
  'Forbidden.KeyNotFound': ['NotFoundException'],
  'Forbidden.AliasNotFound': ['NotFoundException'],
  'Forbidden.KeyVersionNotFound': ['NotFoundException'],
  'Forbidden.ResourceNotFound': ['NotFoundException'],
  AliasAlreadyExists: ['AlreadyExistsException'],
  'Rejected.Disabled': ['DisabledException'],
  'Rejected.PendingDeletion': ['KMSInvalidStateException'],
  'Rejected.PendingImport': ['KMSInvalidStateException'],
  'Rejected.StateModifiedFailed': ['KMSInvalidStateException'],
  'Rejected.ConcurrentModification': ['ConflictException'],
  'Rejected.LimitExceeded': ['TagException'],
  'Rejected.Throttling': ['ThrottlingException', 400],
  'Unsupported.Origin': ['UnsupportedOperationException'],
  InvalidImportToken: ['InvalidImportTokenException'],
  ExpiredImportToken: ['ExpiredImportTokenException'],
  InvalidKeyMaterial: ['IncorrectKeyMaterialException'],
  InvalidCiphertext: ['InvalidCiphertextException'],
  IncorrectKey: ['IncorrectKeyException'],
  DryRunOperationError: ['DryRunOperationException', 412],
  InternalFailure: ['KMSInternalException', 500],
  ServiceUnavailableTemporary: ['DependencyTimeoutException', 503],
};

/**
 * Secrets Manager's `__type` where it differs from KMS's (its model's errors: InvalidParameter-,
 * InvalidRequest-, ResourceNotFound-, ResourceExists-, LimitExceededException,
 * InternalServiceError; the signature and throttling errors are common to every AWS service).
 * A key-state refusal is the operation's EncryptionFailure or DecryptionFailure.
 */
const SECRETS_MANAGER_TYPES: Readonly<Record<string, readonly [type: string, status?: number]>> = {
  MissingParameter: ['InvalidParameterException'],
  InvalidParameter: ['InvalidParameterException'],
  RequestEntityTooLarge: ['InvalidParameterException', 413],
  'Forbidden.KeyNotFound': ['ResourceNotFoundException'],
  'Forbidden.AliasNotFound': ['ResourceNotFoundException'],
  'Forbidden.KeyVersionNotFound': ['ResourceNotFoundException'],
  'Forbidden.ResourceNotFound': ['ResourceNotFoundException'],
  'Rejected.ConcurrentModification': ['InvalidRequestException'],
  'Rejected.LimitExceeded': ['LimitExceededException'],
  'Rejected.UnsupportedOperation': ['InvalidRequestException'],
  UnsupportedOperation: ['InvalidRequestException'],
  IncorrectKey: ['InvalidParameterException'],
  'Unsupported.Origin': ['InvalidParameterException'],
  InternalFailure: ['InternalServiceError', 500],
  ServiceUnavailableTemporary: ['InternalServiceError', 503],
};
const KEY_STATE_CODES: ReadonlySet<string> = new Set([
  'Rejected.Disabled',
  'Rejected.PendingDeletion',
  'Rejected.PendingImport',
  'Rejected.StateModifiedFailed',
]);

/** How an error is answered to a Secrets Manager client: the operation's key-state error, when it is one. */
export interface AwsErrorStyle {
  service: AwsService;
  keyStateError?: 'DecryptionFailure' | 'EncryptionFailure';
}

/**
 * AWS's wording where the service's own message speaks Alibaba's conventions (its signature
 * standard, the AccessKeySecret, the AccessKeyId parameter): an AWS client is told what AWS would
 * tell it.
 */
const AWS_MESSAGES: Readonly<Record<string, string>> = {
  SignatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your secret access key and signing method (AWS Signature Version 4).',
  'InvalidAccessKeyId.NotFound': 'The access key ID in the request signature does not exist.',
  'InvalidAccessKeyId.Inactive': 'The access key ID in the request signature is disabled.',
};

/**
 * A key or alias ARN in Alibaba's form; the rest of it (`region:account:key/<id>`) is AWS's form
 * too. A secret's acs ARN is left as it is: its AWS ARN carries a suffix a message does not know.
 */
const ALIBABA_KMS_ARN = /\bacs:kms:([a-z0-9-]*):(?=[^:\s]*:(?:key|alias)\/)/g;

/** Where a message's ARNs are moved: this deployment's Alibaba region becomes the region the request was signed for. */
export interface AwsArnRegion {
  alibabaRegion: string;
  region: string;
}

/**
 * The message an AWS client gets: AWS's wording, and ARNs in AWS's form — in the region of the
 * request's signature, as the ARNs of its answers are (when known: a request refused before its
 * signature was read keeps the region the message named).
 */
export function awsMessageOf(error: KmsError, arns?: AwsArnRegion): string {
  return (
    AWS_MESSAGES[error.code] ??
    error.message.replace(ALIBABA_KMS_ARN, (_arn, region: string) => `arn:aws:kms:${arns && region === arns.alibabaRegion ? arns.region : region}:`)
  );
}

/**
 * The `__type`s of the Secrets Manager model an error may name itself (KmsError.awsType). An
 * error naming a type of AWS KMS's model (InvalidKeyUsageException, UnsupportedOperationException,
 * KMSInvalidSignatureException…) is answered to a Secrets Manager client by its code instead: its
 * SDK knows no such exception.
 */
const SECRETS_MANAGER_OWN_TYPES: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'ResourceExistsException',
  'InvalidRequestException',
  'InvalidParameterException',
  'InvalidNextTokenException',
  'LimitExceededException',
  'DecryptionFailure',
  'EncryptionFailure',
]);

/** The AWS `__type` and status of an error of this service (default: as AWS KMS answers it). */
export function awsErrorOf(error: KmsError, style?: AwsErrorStyle): { type: string; status: number } {
  const [type, status] =
    style?.service === 'secretsmanager'
      ? error.awsType !== undefined && SECRETS_MANAGER_OWN_TYPES.has(error.awsType)
        ? [error.awsType]
        : secretsManagerType(error, style)
      : error.awsType === undefined
        ? awsKmsType(error)
        : [error.awsType];
  return { type, status: status ?? (error.statusCode >= 500 ? error.statusCode : 400) };
}

const awsKmsType = (error: KmsError) => AWS_TYPES[error.code] ?? (['ValidationException'] as const);

function secretsManagerType(error: KmsError, style: AwsErrorStyle): readonly [string, number?] {
  // A key that is not usable now, or not for this (an asymmetric or HMAC key): the operation cannot encrypt or decrypt with it.
  if (KEY_STATE_CODES.has(error.code) || error.awsType === 'InvalidKeyUsageException') return [style.keyStateError ?? 'EncryptionFailure'];
  const own = SECRETS_MANAGER_TYPES[error.code];
  if (own) return own;
  const kms = AWS_TYPES[error.code];
  // The errors every AWS service shares (signature, access, throttling, serialization) are KMS's too.
  return kms && !kms[0].startsWith('KMS') && kms[0] !== 'NotFoundException' && kms[0] !== 'ValidationException' ? kms : ['InvalidParameterException'];
}

export function awsErrorResponse(requestId: string, error: KmsError, arns?: AwsArnRegion, style?: AwsErrorStyle): RpcResponse {
  const { type, status } = awsErrorOf(error, style);
  const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
  return {
    statusCode: status,
    headers: {
      'content-type': AWS_CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      ...(typeof retryAfterMs === 'number' ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {}),
    },
    body: JSON.stringify({ __type: type, message: awsMessageOf(error, arns) }),
  };
}

export function awsSuccessResponse(requestId: string, body: Record<string, unknown>): RpcResponse {
  return { statusCode: 200, headers: { 'content-type': AWS_CONTENT_TYPE, 'x-amzn-requestid': requestId }, body: JSON.stringify(body) };
}

/** Fatal: a byte sequence that is not UTF-8 is refused, never read as U+FFFD; a BOM is kept, so JSON.parse refuses it as before. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body of an AWS request: a JSON object (an empty body is `{}`), read strictly, since what it
 * holds is bound into ciphertexts (an EncryptionContext): bytes that are not UTF-8 (which a lax
 * decoder turns into U+FFFD, making `{"t":"\xFF"}` and `{"t":"\xFE"}` one context), an object
 * that gives a key twice at any depth (one reader keeps the first, another the last), and anything
 * that is not a JSON object are each a SerializationException.
 */
export function parseAwsBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new AwsSerializationError('The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AwsSerializationError('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AwsSerializationError('The request body must be a JSON object.');
  if (duplicateJsonKey(text) !== undefined) throw new AwsSerializationError('The request body gives a key more than once in one JSON object.');
  return value as Record<string, unknown>;
}

/** A body the AWS protocol cannot read. */
export class AwsSerializationError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'MalformedRequest';
}
