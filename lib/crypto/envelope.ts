import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBytesFromPool } from './random-pool.js';
import { InvalidCiphertextError, InvalidParameterError } from '../errors.js';
import { BASE64 } from './base64.js';
import { isKeyVersionId } from '../keyring/key-id.js';

/**
 * The CiphertextBlob, Alibaba's outer layout:
 *
 *     Base64( keyVersionId (36 ASCII bytes) ‖ IV (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes) )
 *
 * The additional authenticated data is `keyVersionId ‖ encodeEncryptionContext(context)`, so a
 * blob decrypts only under the version it names and with an equal EncryptionContext. A blob made
 * through the AWS protocol (binary plaintext: raw data keys, bytes) has `‖ "\0aws-binary"` after
 * that; the context encoding is self-delimiting, so the two forms never share an AAD and a blob
 * never opens as the other form (a text blob through AWS Decrypt, a binary one through Alibaba's).
 */

/** `text`: the Alibaba API's (UTF-8 text; a data key's Base64). `binary`: the AWS API's (bytes; a data key raw). */
export type BlobForm = 'text' | 'binary';
const BINARY_FORM_SUFFIX = Buffer.from('\0aws-binary', 'latin1');

function aadOf(versionId: Buffer, encodedContext: Buffer, form: BlobForm): Buffer {
  return Buffer.concat(form === 'binary' ? [versionId, encodedContext, BINARY_FORM_SUFFIX] : [versionId, encodedContext]);
}
const VERSION_ID_BYTES = 36;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = VERSION_ID_BYTES + IV_BYTES;

export interface SealedBlob {
  keyVersionId: string;
  /** The whole decoded blob; the parts are views into it. */
  bytes: Buffer;
}

/** Encrypts `plaintext` under a version's 32-byte material with a fresh random IV; returns the Base64 blob. */
export function sealEnvelope(material: Buffer, keyVersionId: string, plaintext: Buffer, encodedContext: Buffer, form: BlobForm = 'text'): string {
  const iv = randomBytesFromPool(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  const versionId = Buffer.from(keyVersionId, 'ascii');
  cipher.setAAD(aadOf(versionId, encodedContext, form));
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([versionId, iv, ciphertext, cipher.getAuthTag()]).toString('base64');
}

/**
 * Reads a blob's layout without decrypting it: the version it names. Not Base64, too short, or a
 * header that is not a version id → {@link InvalidParameterError} on `parameter`.
 */
export function parseEnvelope(blob: string, parameter = 'CiphertextBlob'): SealedBlob {
  if (!BASE64.test(blob)) throw new InvalidParameterError(parameter, 'It is not valid Base64.');
  return readEnvelope(Buffer.from(blob, 'base64'), parameter);
}

/** {@link parseEnvelope} of a blob's bytes (a protocol that carries them as binary). */
export function readEnvelope(bytes: Buffer, parameter = 'CiphertextBlob'): SealedBlob {
  if (bytes.length < HEADER_BYTES + TAG_BYTES) throw new InvalidParameterError(parameter, 'It is too short to be a ciphertext blob.');
  const keyVersionId = bytes.toString('latin1', 0, VERSION_ID_BYTES);
  if (!isKeyVersionId(keyVersionId)) throw new InvalidParameterError(parameter, 'It does not start with a key version id.');
  return { keyVersionId, bytes };
}

/**
 * Decrypts a parsed blob. Any authentication failure (tampered blob, other material, different
 * context) is one {@link InvalidCiphertextError}; no partial plaintext ever leaves: GCM output is
 * only returned after the tag verified, and zeroed otherwise.
 */
export function openEnvelope(material: Buffer, blob: SealedBlob, encodedContext: Buffer, form: BlobForm = 'text'): Buffer {
  const { bytes } = blob;
  const iv = bytes.subarray(VERSION_ID_BYTES, HEADER_BYTES);
  const ciphertext = bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', material, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(bytes.subarray(0, VERSION_ID_BYTES), encodedContext, form));
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new InvalidCiphertextError();
  }
  return plaintext;
}
