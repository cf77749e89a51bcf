import { randomBytesFromPool } from '../crypto/random-pool.js';
import * as z from '../zod.js';
import { type EncryptionContext, encodeEncryptionContext } from '../crypto/encryption-context.js';
import { type BlobForm, sealEnvelope } from '../crypto/envelope.js';
import { InvalidParameterError } from '../errors.js';
import type { KeyVersion, ResolvedKey } from '../keyring/keyring.js';
import { resolveAuthorizedKey } from './resolve-key.js';
import { blobFormOf, defineOperation } from '../operation.js';
import { booleanParameter, encryptionContextParameter, integerParameter, keyIdParameter } from '../protocol/alibaba/schema.js';

/** Data-key length when neither KeySpec nor NumberOfBytes is given. */
export const DEFAULT_DATA_KEY_BYTES = 32;
/** A Map, not an object literal: a KeySpec such as `__proto__` or `toString` must find nothing. */
const KEY_SPEC_BYTES: ReadonlyMap<string, number> = new Map([['AES_256', 32], ['AES_128', 16]]);

/** The data-key parameters GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateAndExportDataKey take. */
export const dataKeyFields = {
  KeyId: keyIdParameter,
  KeySpec: z.optional(z.string()),
  NumberOfBytes: z.optional(integerParameter(1, 1024)),
  EncryptionContext: encryptionContextParameter('EncryptionContext'),
  DryRun: z.optional(booleanParameter),
};

/** Replaces KeySpec and NumberOfBytes by the data key's `length`, and `lengthParameter`, the one that set it. */
export function withDataKeyLength<T extends { KeySpec?: string; NumberOfBytes?: number }>({ KeySpec, NumberOfBytes, ...rest }: T) {
  // NumberOfBytes wins; KeySpec is only read (and only validated) when it is absent.
  let length = NumberOfBytes;
  if (length === undefined && KeySpec !== undefined) {
    length = KEY_SPEC_BYTES.get(KeySpec);
    if (length === undefined) throw new InvalidParameterError('KeySpec', 'It must be AES_256 or AES_128.');
  }
  return { ...rest, length: length ?? DEFAULT_DATA_KEY_BYTES, lengthParameter: NumberOfBytes !== undefined ? 'NumberOfBytes' : 'KeySpec' };
}

export const dataKeyInput = z.pipe(z.object(dataKeyFields), z.transform(withDataKeyLength));

/** A new data key and its blob. `wipe()` zeroes the key's buffers; call it before answering. */
export interface SealedDataKey {
  /** The raw key bytes. */
  dataKey: Buffer;
  /** Base64 of the key: what GenerateDataKey returns and what the blob wraps. */
  plaintext: string;
  blob: string;
  wipe(): void;
}

/**
 * A random data key of `length` bytes, sealed under `version`. Alibaba wraps the Base64 *text* of
 * the data key, so Decrypt of the blob returns exactly the `Plaintext` string.
 */
export function sealNewDataKey(version: KeyVersion, length: number, encryptionContext: EncryptionContext, form: BlobForm = 'text'): SealedDataKey {
  const dataKey = randomBytesFromPool(length);
  const plaintext = dataKey.toString('base64');
  // The AWS protocol wraps the raw key (binary form); Alibaba's, its Base64 text.
  const wrapped = form === 'binary' ? Buffer.from(dataKey) : Buffer.from(plaintext, 'ascii');
  try {
    const blob = sealEnvelope(version.material, version.keyVersionId, wrapped, encodeEncryptionContext(encryptionContext), form);
    return { dataKey, plaintext, blob, wipe: () => dataKey.fill(0) };
  } catch (err) {
    dataKey.fill(0);
    throw err;
  } finally {
    wrapped.fill(0);
  }
}

/**
 * GenerateDataKey and GenerateDataKeyWithoutPlaintext are this one operation with a switch, as in
 * Vault's datakey path: a random data key is wrapped under the key's primary version and the
 * plaintext is returned or not. The service keeps no copy: the key's buffers are zeroed before
 * the response is sent.
 */
export function dataKeyOperation(action: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext', options: { returnPlaintext: boolean }) {
  return defineOperation({
    action,
    input: dataKeyInput,
    resolve: (input, context): Promise<ResolvedKey> => resolveAuthorizedKey(input.KeyId, context, { usable: true }),
    async execute(input, key, context) {
      const version = await context.service.keyring.primaryVersion(key);
      const sealed = sealNewDataKey(version, input.length, input.EncryptionContext, blobFormOf(context));
      try {
        return {
          KeyId: key.keyId,
          KeyVersionId: version.keyVersionId,
          CiphertextBlob: sealed.blob,
          ...(options.returnPlaintext ? { Plaintext: sealed.plaintext } : {}),
        };
      } finally {
        sealed.wipe();
      }
    },
  });
}
