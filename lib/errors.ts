/**
 * Every failure the service reports, one class each, with the HTTP status and the Alibaba `Code`
 * a caller sees. Messages are written for the caller: they never carry key material, data-key
 * plaintext, secrets or a server-side string-to-sign.
 *
 * Anything thrown that is not a {@link KmsError} is an internal fault: the edge logs it and answers
 * with a generic {@link InternalFailureError}.
 */
export abstract class KmsError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  /** Alibaba's optional hint; we leave it empty unless a fix is obvious. */
  readonly recommend: string = '';
  /**
   * The `__type` the AWS protocol answers with, where one Alibaba Code stands for failures AWS
   * tells apart; else the AWS protocol maps the Code (lib/protocol/aws/wire.ts).
   */
  readonly awsType: string | undefined = undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class MissingParameterError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'MissingParameter';
  constructor(readonly parameter: string) {
    super(`The parameter "${echo(parameter)}" is needed but not provided.`);
  }
}

export class InvalidParameterError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidParameter';
  constructor(
    readonly parameter: string,
    reason?: string,
  ) {
    super(`The specified parameter "${echo(parameter)}" is not valid.${reason ? ` ${reason}` : ''}`);
  }
}

export class RequestTooLargeError extends KmsError {
  readonly statusCode = 413;
  readonly code = 'RequestEntityTooLarge';
  constructor(limitBytes: number) {
    super(`The request body exceeds ${limitBytes} bytes.`);
  }
}

export class MalformedRequestError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'MalformedRequest';
  constructor() {
    super('The request could not be read: the platform delivered an event that is not an HTTP request.');
  }
}

export class UnsupportedMediaTypeError extends KmsError {
  readonly statusCode = 415;
  readonly code = 'UnsupportedMediaType';
  constructor() {
    super('A request body must be application/x-www-form-urlencoded UTF-8 text; send the parameters in the query string or in such a body.');
  }
}

export class IncompleteSignatureError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'IncompleteSignature';
  constructor(detail: string) {
    super(`The request signature is incomplete or malformed: ${detail}`);
  }
}

export class SignatureDoesNotMatchError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'SignatureDoesNotMatch';
  constructor() {
    super('The request signature does not conform to Alibaba Cloud standards. Check your AccessKeySecret and signing method.');
  }
}

export class TimestampExpiredError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidTimeStamp.Expired';
  constructor(windowMinutes: number) {
    super(`The request timestamp is more than ${windowMinutes} minutes away from the server time.`);
  }
}

export class IllegalTimestampError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'IllegalTimestamp';
  constructor(parameter: string, format = 'yyyy-MM-ddTHH:mm:ssZ (UTC)') {
    super(`The "${echo(parameter)}" value does not match the format ${format}.`);
  }
}

export class SignatureNonceUsedError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'SignatureNonceUsed';
  constructor() {
    super('The request signature nonce has been used within the replay window.');
  }
}

export class AccessKeyNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'InvalidAccessKeyId.NotFound';
  constructor() {
    super('The specified AccessKeyId does not exist.');
  }
}

export class AccessKeyInactiveError extends KmsError {
  readonly statusCode = 403;
  readonly code = 'InvalidAccessKeyId.Inactive';
  constructor() {
    super('The specified AccessKeyId is disabled.');
  }
}

export class ActionNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'InvalidAction.NotFound';
  constructor(action: string) {
    super(`The specified action "${echo(action)}" is not found.`);
  }
}

export class NoPermissionError extends KmsError {
  readonly statusCode = 403;
  readonly code = 'Forbidden.NoPermission';
  /**
   * `resource`: what the caller named, never what it resolves to. For a ciphertext, the key version
   * the blob names (the caller holds it already), never its key.
   */
  constructor(action: string, resource: string | { keyVersionId: string }) {
    super(
      `This operation is forbidden: the access key's policy does not allow "${echo(action)}" on ${
        typeof resource === 'string' ? `"${echo(resource)}"` : `the key of key version "${echo(resource.keyVersionId)}" (named by the ciphertext)`
      }.`,
    );
  }
}

export class KeyNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.KeyNotFound';
  constructor(keyId: string) {
    super(`The specified key "${echo(keyId)}" is not found.`);
  }
}

export class AliasNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.AliasNotFound';
  /**
   * With `action`, the answer for an alias that is missing *or* names a key the caller may not use
   * for that action: one message for both, so a caller learns neither.
   */
  constructor(alias: string, action?: string) {
    super(`The specified alias "${echo(alias)}" is not found${action ? `, or this access key may not use it for "${echo(action)}"` : ''}.`);
  }
}

export class KeyVersionNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.KeyVersionNotFound';
  constructor(keyVersionId: string) {
    super(`The specified key version "${echo(keyVersionId)}" is not found.`);
  }
}

export class AliasAlreadyExistsError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'AliasAlreadyExists';
  constructor(alias: string) {
    super(`The alias "${echo(alias)}" already exists.`);
  }
}

export class KeyDisabledError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.Disabled';
  constructor(keyId: string) {
    super(`The key "${echo(keyId)}" is disabled.`);
  }
}

export class KeyPendingDeletionError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.PendingDeletion';
  constructor(keyId: string) {
    super(`The key "${echo(keyId)}" is pending deletion.`);
  }
}

export class KeyPendingImportError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.PendingImport';
  constructor(keyId: string) {
    super(`The key "${echo(keyId)}" has no key material: import it (GetParametersForImport, ImportKeyMaterial) first.`);
  }
}

/** An import Action (or CreateKeyVersion, automatic rotation) on a key whose origin does not allow it. */
export class UnsupportedOriginError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'Unsupported.Origin';
  constructor(keyId: string, origin: 'Aliyun_KMS' | 'EXTERNAL') {
    super(
      origin === 'Aliyun_KMS'
        ? `This key origin is not valid for this api: key "${echo(keyId)}" has Origin Aliyun_KMS; only EXTERNAL keys take imported material.`
        : `This key origin is not valid for this api: key "${echo(keyId)}" has Origin EXTERNAL; its material is imported, never generated or rotated here.`,
    );
  }
}

/** The ImportToken is malformed, forged, or for another key. */
export class InvalidImportTokenError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidImportToken';
  constructor() {
    super('The import token is invalid: use the ImportToken GetParametersForImport returned for this key.');
  }
}

export class ExpiredImportTokenError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'ExpiredImportToken';
  constructor() {
    super('The import token is expired: call GetParametersForImport again and wrap the material under the new public key.');
  }
}

/**
 * The wrapped material does not unwrap, is not 32 bytes, or is not the material this key was
 * first given. One message for every cause, so the answer is no padding oracle.
 */
export class InvalidKeyMaterialError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidKeyMaterial';
  constructor() {
    super(
      'The key material is invalid: it must be 32 bytes wrapped under the public key with the WrappingAlgorithm of the import token, and, once a key has had material, the same material.',
    );
  }
}

/** Another import, deletion or sweep of the key's material held it for longer than this call waits. */
export class KeyMaterialBusyError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ConcurrentModification';
  constructor(keyId: string) {
    super(`The material of key "${echo(keyId)}" is being imported or deleted by another request; retry it.`);
  }
}

export class AliasChangedError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ConcurrentModification';
  constructor(alias: string) {
    super(`The alias "${echo(alias)}" was changed by another request while this one ran; retry it.`);
  }
}

export class StateModifiedFailedError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.StateModifiedFailed';
  constructor(keyId: string, state: string) {
    super(`The state of key "${echo(keyId)}" cannot be changed while it is ${state}.`);
  }
}

export class DeletionProtectedError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.StateModifiedFailed';
  constructor(keyId: string) {
    super(`Key "${echo(keyId)}" has deletion protection enabled: turn it off (SetDeletionProtection) before scheduling its deletion.`);
  }
}

export class TagLimitExceededError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'Rejected.LimitExceeded';
  constructor(limit: number) {
    super(`A key may carry at most ${limit} tags.`);
  }
}

export class ResourceNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.ResourceNotFound';
  constructor(parameter: string) {
    super(`The resource named by "${echo(parameter)}" does not exist: this service serves keys only.`);
  }
}

/*
 * Secrets (lib/secrets/): one class per failure, with Alibaba's Code and status and, where the AWS
 * Secrets Manager protocol names the failure, its `__type`. Messages name the secret and the
 * version or stage, never the value.
 */

/** No secret of that name (or the reference names one of another region or account). */
export class SecretNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.ResourceNotFound';
  override readonly awsType = 'ResourceNotFoundException';
  constructor(secret: string) {
    super(`The specified secret "${echo(secret)}" is not found.`);
  }
}

/** The secret has no version of that id, or no version carries that stage. */
export class SecretVersionNotFoundError extends KmsError {
  readonly statusCode = 404;
  readonly code = 'Forbidden.ResourceNotFound';
  override readonly awsType = 'ResourceNotFoundException';
  constructor(secret: string, version: { versionId: string } | { stage: string }) {
    super(
      'versionId' in version
        ? `The secret "${echo(secret)}" has no version "${echo(version.versionId)}".`
        : `No version of the secret "${echo(secret)}" has the stage "${echo(version.stage)}".`,
    );
  }
}

/** CreateSecret of a name in use (other than an exact repeat). */
export class SecretExistsError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ResourceExist';
  override readonly awsType = 'ResourceExistsException';
  constructor(secret: string) {
    super(`The secret "${echo(secret)}" already exists.`);
  }
}

/** A put naming a version id the secret has, with another value or type. */
export class SecretVersionExistsError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ResourceExist';
  override readonly awsType = 'ResourceExistsException';
  constructor(secret: string, versionId: string) {
    super(`The secret "${echo(secret)}" already has a version "${echo(versionId)}" with other data: a version never changes.`);
  }
}

/** The secret is scheduled for deletion: only describing, listing, restoring and a forced deletion are served. */
export class SecretInDeleteWindowError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ResourceInDeleteWindow';
  override readonly awsType = 'InvalidRequestException';
  constructor(secret: string) {
    super(`The secret "${echo(secret)}" is scheduled for deletion: restore it (RestoreSecret) first.`);
  }
}

/** RestoreSecret of a secret that is not scheduled for deletion. */
export class SecretNotPendingDeletionError extends KmsError {
  readonly statusCode = 409;
  readonly code = 'Rejected.ResourceInUse';
  override readonly awsType = 'InvalidRequestException';
  constructor(secret: string) {
    super(`The secret "${echo(secret)}" is not scheduled for deletion: there is nothing to restore.`);
  }
}

/** Too many stages on a version or a secret, or too many tags on a secret. */
export class SecretLimitExceededError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'Rejected.LimitExceeded';
  override readonly awsType = 'LimitExceededException';
  constructor(secret: string, what: string) {
    super(`The secret "${echo(secret)}" would exceed a limit: ${what}`);
  }
}

/**
 * A stage move the stage rules refuse: removing ACSCurrent / ACSPrevious (they only move), moving a
 * stage without naming the version that holds it, or naming as its holder a version that does not.
 */
export class SecretStageRuleError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidParameter';
  override readonly awsType = 'InvalidParameterException';
  constructor(secret: string, reason: string) {
    super(`The version stage cannot be changed on the secret "${echo(secret)}": ${reason}`);
  }
}

/**
 * A `DryRun=true` request that would have succeeded: its parameters, the caller's permission and
 * the key's state were all checked, and nothing was done. Alibaba's SDK models document DryRun as
 * always failing with this Code; the status is AWS's for DryRunOperationException.
 */
export class DryRunOperationError extends KmsError {
  readonly statusCode = 412;
  readonly code = 'DryRunOperationError';
  constructor() {
    super('The request would have succeeded, but DryRun was set: nothing was done.');
  }
}

/** Decrypt or ReEncrypt named a key (`KeyId`, `SourceKeyId`) that is not the key of the ciphertext. */
export class IncorrectKeyError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'IncorrectKey';
  constructor(parameter: string) {
    super(`The key that encrypted the CiphertextBlob is not the key named by "${echo(parameter)}".`);
  }
}

export class InvalidCiphertextError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidCiphertext';
  constructor() {
    super('The CiphertextBlob could not be decrypted: either the blob is corrupt, or the EncryptionContext differs from the one used to encrypt it.');
  }
}

/**
 * The key cannot do what was asked: its usage or spec does not fit the Action or the algorithm
 * (signing with an ENCRYPT/DECRYPT key, GenerateDataKey under an RSA key, ECDSA with an RSA key,
 * HMAC_SHA_512 with an HMAC_256 key). Alibaba publishes no code for it; AWS's is
 * InvalidKeyUsageException.
 */
export class KeyUsageError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'UnsupportedOperation';
  override readonly awsType = 'InvalidKeyUsageException';
  constructor(keyId: string, reason: string) {
    super(`Key "${echo(keyId)}" cannot be used this way: ${reason}`);
  }
}

/**
 * The operation does not exist for keys of this kind: GetPublicKey of a key without a key pair,
 * rotation of an asymmetric or HMAC key, a new version of an HMAC key. AWS's is
 * UnsupportedOperationException.
 */
export class UnsupportedKeyOperationError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'UnsupportedOperation';
  override readonly awsType = 'UnsupportedOperationException';
  constructor(keyId: string, reason: string) {
    super(`This operation is not supported for key "${echo(keyId)}": ${reason}`);
  }
}

/**
 * A key spec this service does not make (SM2, SM4, post-quantum, Ed25519). Alibaba answers a bad
 * KeySpec with InvalidParameter; AWS's CreateKey with UnsupportedOperationException.
 */
export class UnsupportedKeySpecError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidParameter';
  override readonly awsType = 'UnsupportedOperationException';
  constructor(parameter: string, reason: string) {
    super(`The specified parameter "${echo(parameter)}" is not valid. ${reason}`);
  }
}

/** AWS Verify: the signature does not verify under the key (Alibaba's AsymmetricVerify answers `Value: false` instead). */
export class InvalidSignatureError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidSignature';
  override readonly awsType = 'KMSInvalidSignatureException';
  constructor() {
    super('The signature is not valid for this message (or digest), key and signing algorithm.');
  }
}

/** AWS VerifyMac: the MAC does not verify under the key. */
export class InvalidMacError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidMac';
  override readonly awsType = 'KMSInvalidMacException';
  constructor() {
    super('The MAC is not valid for this message, key and MAC algorithm.');
  }
}

export class ThrottlingError extends KmsError {
  readonly statusCode = 429;
  readonly code = 'Rejected.Throttling';
  /** When the limit allows the next request, in milliseconds (when known). */
  readonly retryAfterMs: number | undefined;
  /** The limit that refused the request (when known). */
  readonly limit: { group: string; rate: number; retryAfterMs: number } | undefined;
  constructor(limit?: { group: string; rate: number; retryAfterMs: number }) {
    super(
      limit
        ? `The request was denied due to request throttling: this access key may make ${limit.rate} ${limit.group} request(s) per second; retry after ${limit.retryAfterMs} ms.`
        : 'The request was denied due to request throttling.',
    );
    this.retryAfterMs = limit?.retryAfterMs;
    this.limit = limit;
  }
}

export class InternalFailureError extends KmsError {
  readonly statusCode = 500;
  readonly code = 'InternalFailure';
  constructor(options?: { cause?: unknown }) {
    super('The request processing has failed due to some unknown error.', options);
  }
}

export class ServiceUnavailableError extends KmsError {
  readonly statusCode = 503;
  readonly code = 'ServiceUnavailableTemporary';
  constructor(options?: { cause?: unknown }) {
    super('The service is temporarily unavailable: the key store cannot be reached. Retry later.', options);
  }
}

/** The dispatcher could not get an answer from the function that serves the request's Action (AWS Lambda). */
export class FunctionUnavailableError extends KmsError {
  readonly statusCode = 503;
  readonly code = 'ServiceUnavailableTemporary';
  constructor() {
    super("The service is temporarily unavailable: the Action's function cannot be reached. Retry later.");
  }
}

/**
 * ListAuditEvents where no audit records are kept to serve: the cloud functions write their audit
 * lines to the platform's logs, and an instance sees only its own requests.
 */
export class AuditEventsNotKeptError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'UnsupportedOperation';
  constructor() {
    super(
      'This deployment does not keep audit records it can serve; read the audit log where the platform collects function output (the local gateway serves ListAuditEvents).',
    );
  }
}

/** ListAuditEvents on a gateway worker whose primary did not send the records of every process. */
export class AuditTrailUnavailableError extends KmsError {
  readonly statusCode = 503;
  readonly code = 'ServiceUnavailableTemporary';
  constructor(options?: { cause?: unknown }) {
    super('The service is temporarily unavailable: the recent audit records could not be gathered. Retry later.', options);
  }
}

export class AuditLogUnavailableError extends KmsError {
  readonly statusCode = 503;
  readonly code = 'ServiceUnavailableTemporary';
  constructor() {
    super('The service is temporarily unavailable: the audit log cannot be written. Retry later.');
  }
}

/**
 * Caller-supplied text as a message may echo it: at most 128 code points (never half a surrogate
 * pair), with every character that is not plain printable text — controls, lone surrogates,
 * U+FFFE/U+FFFF, which XML 1.0 forbids and JSON decoders may refuse — written as `\u{…}`. So an
 * error never mirrors a large input, and its body is valid JSON and XML whatever was sent.
 */
function echo(value: string, max = 128): string {
  let out = '';
  let count = 0;
  for (const char of value) {
    const shown = UNPRINTABLE.test(char) ? `\\u{${char.codePointAt(0)!.toString(16)}}` : char;
    // At most `max` code points of the caller's text, and never more than that many written out
    // (escapes count by what they take), so a message stays short whatever was sent.
    if (count === max || out.length + shown.length > max) return `${out}…`;
    out += shown;
    count++;
  }
  return out;
}

const UNPRINTABLE = /^[\p{Cc}\p{Cs}\uFFFE\uFFFF]$/u;

/** A Secrets Manager `NextToken` this service did not return. */
export class InvalidNextTokenError extends KmsError {
  readonly statusCode = 400;
  readonly code = 'InvalidParameter';
  override readonly awsType = 'InvalidNextTokenException';
  constructor() {
    super('The specified parameter "NextToken" is not valid. It must be a NextToken this service returned.');
  }
}
