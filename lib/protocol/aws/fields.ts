import { BASE64 } from '../../crypto/base64.js';
import {
  ASYMMETRIC_ENCRYPTION_ALGORITHMS,
  type AsymmetricEncryptionAlgorithm,
  MAC_ALGORITHMS,
  type MacAlgorithm,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from '../../crypto/key-spec.js';
import { type EncryptionContext, parseEncryptionContext } from '../../crypto/encryption-context.js';
import { readEnvelope, type SealedBlob } from '../../crypto/envelope.js';
import { InvalidParameterError, MissingParameterError } from '../../errors.js';
import { absent, field, integer, text } from './json.js';
import { keyReferenceProblem } from '../../keyring/key-id.js';
import { aliasNameProblem } from '../../operations/alias-name.js';
import { type DataKeyInput, keySpecBytes } from '../../operations/data-key.js';
import { PAGING_DEFAULTS, type PagingInput } from '../../operations/paging.js';
import { storedTextProblem } from '../../operations/stored-text.js';
import type { AwsBody, AwsScope } from './binding.js';

/*
 * Reading AWS JSON straight into typed input: each reader checks one field as AWS types it
 * (strings, numbers, booleans, Base64 blobs, maps, lists) and by the rules the Action applies on
 * every protocol, and names the field in its 400.
 */

export { bool, field, integer, text } from './json.js';

/** Base64 binary (a blob, a plaintext), decoded: 1 to `maxBytes` bytes. The caller owns (and zeroes) the buffer. */
export function binary(body: AwsBody, name: string, maxBytes: number): Buffer {
  const value = text(body, name, { required: true })!;
  if (!BASE64.test(value) || value.length === 0) throw new InvalidParameterError(name, 'It must be Base64-encoded binary data.');
  const bytes = (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  if (bytes < 1 || bytes > maxBytes) throw new InvalidParameterError(name, `It must hold 1 to ${maxBytes} bytes.`);
  return Buffer.from(value, 'base64');
}

/** A CiphertextBlob (at most 6,144 bytes), its layout read. */
export function ciphertextBlob(body: AwsBody, name = 'CiphertextBlob'): SealedBlob {
  return readEnvelope(binary(body, name, 6144), name);
}

const NO_CONTEXT: EncryptionContext = new Map();

/** An EncryptionContext: a map of string keys to string values, read by the rules of every protocol. */
export function encryptionContext(body: AwsBody, name: string): EncryptionContext {
  const value = field(body, name);
  if (absent(value)) return NO_CONTEXT;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value as object).some((v) => typeof v !== 'string')) {
    throw new InvalidParameterError(name, 'It must be a map of string keys to string values.');
  }
  return parseEncryptionContext(value, name);
}

/** Fields that ask for something this service does not do (and must not silently skip). */
export function refuse(body: AwsBody, names: readonly string[]): void {
  for (const name of names) if (!absent(field(body, name))) throw new InvalidParameterError(name, 'It is not supported by this service.');
}

export function encryptionAlgorithm(body: AwsBody, name: string): void {
  const algorithm = text(body, name);
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') throw new InvalidParameterError(name, 'Only SYMMETRIC_DEFAULT is supported.');
}

/**
 * An AWS key reference as this service reads one: a key id or `alias/…` as it is; an AWS ARN of
 * this account in a served region as the bare id or alias; any other ARN as an Alibaba ARN of that
 * region and account, which names nothing here (404, as in another account).
 */
export function keyReferenceOf(reference: string, scope: AwsScope, name = 'KeyId'): string {
  if (!reference.startsWith('arn:')) return reference;
  const parts = reference.split(':');
  if (parts.length < 6 || parts[1] !== 'aws' || parts[2] !== 'kms' || !parts[3] || !parts[4]) {
    throw new InvalidParameterError(name, 'An ARN has the form arn:aws:kms:<region>:<account>:key/<id> or …:alias/<name>.');
  }
  const resource = parts.slice(5).join(':');
  if (!resource.startsWith('key/') && !resource.startsWith('alias/')) throw new InvalidParameterError(name, 'An ARN must name a key/<id> or an alias/<name>.');
  if (parts[4] === scope.accountId && scope.regions.has(parts[3])) return resource.startsWith('alias/') ? resource : resource.slice('key/'.length);
  return `acs:kms:${parts[3]}:${parts[4]}:${resource}`;
}

/** A required key reference (id, alias, ARN), checked as every protocol checks one. */
export function keyId(body: AwsBody, scope: AwsScope, name = 'KeyId'): string {
  const reference = keyReferenceOf(text(body, name, { required: true, max: 2048 })!, scope, name);
  const problem = reference === '' ? 'It must not be empty.' : keyReferenceProblem(reference);
  if (problem) throw new InvalidParameterError(name, problem);
  return reference;
}

/** An optional key reference the request expects something to be under (Decrypt's KeyId): resolved, and so checked, by the Action. */
export function expectedKeyId(body: AwsBody, scope: AwsScope, name: string): { keyId: string; parameter: string } | undefined {
  const reference = text(body, name, { max: 2048 });
  return reference === undefined ? undefined : { keyId: keyReferenceOf(reference, scope, name), parameter: name };
}

export function aliasName(body: AwsBody, name = 'AliasName'): string {
  const value = text(body, name, { required: true, max: 256 })!;
  const problem = aliasNameProblem(value);
  if (problem) throw new InvalidParameterError(name, problem);
  return value;
}

/** Text the service stores and returns (a Description). */
export function storedText(body: AwsBody, name: string, max: number): string | undefined {
  const value = text(body, name, { max });
  const problem = value === undefined ? undefined : storedTextProblem(value, max);
  if (problem) throw new InvalidParameterError(name, problem);
  return value;
}

/** A list field, when given. */
export function list(body: AwsBody, name: string, required: boolean, shape: string): unknown[] | undefined {
  const value = field(body, name);
  if (absent(value)) {
    if (required) throw new MissingParameterError(name);
    return undefined;
  }
  if (!Array.isArray(value)) throw new InvalidParameterError(name, `It must be a list of ${shape}.`);
  return value;
}

/** `Marker`: a NextMarker this service returned (a page number, or an offset), when given. */
export function marker(body: AwsBody, max: number = PAGING_DEFAULTS.maxPageNumber): number | undefined {
  const value = text(body, 'Marker', { max: 32 });
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(value) || Number(value) > max) throw new InvalidParameterError('Marker', 'It must be a NextMarker this service returned.');
  return Number(value);
}

/** Paging: AWS's Limit (1–1000, default 100) and opaque Marker over pages of at most 100 (the Marker is the next page's number). */
export function paging(body: AwsBody): Required<PagingInput> {
  const limit = integer(body, 'Limit', 1, 1000) ?? 100;
  return { PageSize: Math.min(limit, PAGING_DEFAULTS.maxPageSize), PageNumber: marker(body) ?? 1 };
}

/** GenerateDataKey's and GenerateDataKeyWithoutPlaintext's input: a key, a context, and exactly one of KeySpec and NumberOfBytes. */
export function dataKeyRequest(body: AwsBody, scope: AwsScope): DataKeyInput {
  // A Recipient (a Nitro enclave's key) asks for the plaintext to be held back: not offered, so refused, never ignored.
  refuse(body, ['Recipient']);
  const KeyId = keyId(body, scope);
  const EncryptionContext = encryptionContext(body, 'EncryptionContext');
  const spec = text(body, 'KeySpec');
  const bytes = integer(body, 'NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (bytes === undefined))
    throw new InvalidParameterError('KeySpec', 'Give either KeySpec (AES_256 or AES_128) or NumberOfBytes, not both and not neither.');
  return bytes !== undefined
    ? { KeyId, EncryptionContext, length: bytes, lengthParameter: 'NumberOfBytes' }
    : { KeyId, EncryptionContext, length: keySpecBytes(spec!), lengthParameter: 'KeySpec' };
}

/** A required enum field: one of `values`, else a 400 naming it. */
export function oneOf<T extends string>(body: AwsBody, name: string, values: readonly T[]): T {
  const value = text(body, name, { required: true })!;
  if (!(values as readonly string[]).includes(value)) throw new InvalidParameterError(name, `It must be one of ${values.join(', ')}.`);
  return value as T;
}

/** AWS's SigningAlgorithm. */
export const signingAlgorithm = (body: AwsBody, name = 'SigningAlgorithm'): SigningAlgorithm => oneOf(body, name, SIGNING_ALGORITHMS);

/** AWS's EncryptionAlgorithm for an RSA key (SYMMETRIC_DEFAULT is the symmetric Actions'). */
export const asymmetricEncryptionAlgorithm = (body: AwsBody, name = 'EncryptionAlgorithm'): AsymmetricEncryptionAlgorithm =>
  oneOf(body, name, ASYMMETRIC_ENCRYPTION_ALGORITHMS);

/** Whether a request's EncryptionAlgorithm names an RSA algorithm (so the asymmetric Action serves it). */
export const namesAsymmetricEncryption = (body: AwsBody, name = 'EncryptionAlgorithm') =>
  (ASYMMETRIC_ENCRYPTION_ALGORITHMS as readonly unknown[]).includes(field(body, name));

/** AWS's MacAlgorithm. */
export const macAlgorithm = (body: AwsBody, name = 'MacAlgorithm'): MacAlgorithm => oneOf(body, name, MAC_ALGORITHMS);
