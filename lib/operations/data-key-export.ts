import type { KeyObject } from 'node:crypto';
import * as z from '../zod.js';
import { InvalidParameterError } from '../errors.js';
import { BASE64 } from '../crypto/base64.js';
import {
  EXPORT_WRAPPING_ALGORITHMS,
  type ExportWrappingAlgorithm,
  oaepCapacity,
  parseRsa2048PublicKey,
  WRAPPING_KEY_SPECS,
} from '../crypto/public-key-wrap.js';

/**
 * The parameters ExportDataKey and GenerateAndExportDataKey share: the caller's public key and how
 * to wrap under it. Parsed during validation, so a DryRun checks them too.
 */
export const exportParameters = {
  PublicKeyBlob: z.pipe(
    z.string().check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(8192, { error: 'It must be at most 8,192 characters.' })),
    z.transform((blob: string, context): KeyObject => {
      const key = parseRsa2048PublicKey(blob);
      return typeof key === 'string' ? z.refuse(context, blob, key) : key;
    }),
  ),
  WrappingAlgorithm: z.pipe(
    z.string(),
    z.transform((value: string, context): ExportWrappingAlgorithm => {
      if ((EXPORT_WRAPPING_ALGORITHMS as readonly string[]).includes(value)) return value as ExportWrappingAlgorithm;
      const why =
        value === 'SM2PKE'
          ? 'SM2PKE (EC_SM2) is only offered by Alibaba for HSM keys in mainland China; this service supports RSAES_OAEP_SHA_256 and RSAES_OAEP_SHA_1.'
          : value === 'RSAES_PKCS1_V1_5'
            ? 'RSAES_PKCS1_V1_5 is not offered for export; use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.'
            : 'It must be RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.';
      return z.refuse(context, value, why);
    }),
  ),
  WrappingKeySpec: z.string().check(
    z.refine((value) => (WRAPPING_KEY_SPECS as readonly string[]).includes(value), {
      error: (issue) =>
        issue.input === 'EC_SM2' ? 'EC_SM2 is only offered by Alibaba for HSM keys in mainland China; this service supports RSA_2048.' : 'It must be RSA_2048.',
    }),
  ),
};

/** Refuses a data key longer than the wrapping carries, naming the parameter that set its length. */
export function assertFitsWrapping(length: number, algorithm: ExportWrappingAlgorithm, parameter: string): void {
  const capacity = oaepCapacity(algorithm);
  if (length > capacity) {
    throw new InvalidParameterError(parameter, `A ${length}-byte data key does not fit under RSA-2048 with ${algorithm}: at most ${capacity} bytes.`);
  }
}

/**
 * The raw data key a blob holds: the wrapped text must be canonical Base64 of at least one byte, as
 * GenerateDataKey writes it. A blob made by Encrypt of other text holds no data key: 400.
 * The caller zeroes the returned buffer.
 */
export function dataKeyOfPlaintext(wrapped: Buffer): Buffer {
  const text = wrapped.toString('latin1');
  const raw = text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
  // Re-encoding catches non-zero padding bits ("QR==" decodes as "QQ=="): one key, one text.
  if (raw === undefined || raw.toString('base64') !== text) {
    raw?.fill(0);
    throw new InvalidParameterError('CiphertextBlob', 'It does not hold a data key (the Base64 text GenerateDataKey wraps); only data keys can be exported.');
  }
  return raw;
}
