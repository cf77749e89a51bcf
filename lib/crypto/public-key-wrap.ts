import { constants, createPublicKey, type KeyObject, publicEncrypt } from 'node:crypto';
import { BASE64_TEXT } from './base64.js';
import { InvalidParameterError } from '../errors.js';

/**
 * Wrapping a data key under a caller's RSA public key (ExportDataKey, GenerateAndExportDataKey).
 *
 * The RSA plaintext is the raw data-key bytes, the Base64-decode of the `Plaintext` GenerateDataKey
 * returns: an HSM's RSA-OAEP unwrap (PKCS#11 C_UnwrapKey) yields a usable AES key only from raw
 * bytes, and an asymmetric decrypt that answers Base64 gives back exactly GenerateDataKey's
 * `Plaintext`. OAEP uses the same hash for MGF1 and an empty label, as Alibaba's import samples do.
 */

/** The algorithms and specs Alibaba lists for export; SM2 (EC_SM2 / SM2PKE) is an HSM-only feature we do not offer. */
export const EXPORT_WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const;
export type ExportWrappingAlgorithm = (typeof EXPORT_WRAPPING_ALGORITHMS)[number];
export const WRAPPING_KEY_SPECS = ['RSA_2048'] as const;

const RSA_2048_BYTES = 256;
const OAEP_HASH: Record<ExportWrappingAlgorithm, { hash: 'sha256' | 'sha1'; bytes: number }> = {
  RSAES_OAEP_SHA_256: { hash: 'sha256', bytes: 32 },
  RSAES_OAEP_SHA_1: { hash: 'sha1', bytes: 20 },
};

/** The longest plaintext RSA-2048 OAEP carries with this hash: k − 2·hLen − 2 (190 for SHA-256, 214 for SHA-1). */
export function oaepCapacity(algorithm: ExportWrappingAlgorithm): number {
  return RSA_2048_BYTES - 2 * OAEP_HASH[algorithm].bytes - 2;
}

const PEM_ARMOUR = /-----(BEGIN|END) PUBLIC KEY-----/g;

/**
 * A `PublicKeyBlob`: Base64 of a DER SubjectPublicKeyInfo holding an RSA-2048 key (PEM armour and
 * whitespace tolerated, as Alibaba's samples build it from a PEM file). Returns the key, or the
 * reason it is refused; the reason never quotes the input.
 */
export function parseRsa2048PublicKey(blob: string): KeyObject | string {
  const text = blob.replace(PEM_ARMOUR, '').replace(/\s+/g, '');
  if (!BASE64_TEXT.test(text) || text.length % 4 !== 0) return 'It must be the Base64 of a DER SubjectPublicKeyInfo (PEM armour allowed).';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return 'It is not a DER SubjectPublicKeyInfo public key.';
  }
  if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== RSA_2048_BYTES * 8) {
    return 'It must be an RSA 2048-bit public key (WrappingKeySpec RSA_2048).';
  }
  // A key no RSA implementation would make (even modulus, exponent 1 or even or huge) cannot encrypt, or would not hide anything.
  const e = key.asymmetricKeyDetails.publicExponent;
  const n = Buffer.from((key.export({ format: 'jwk' }) as { n: string }).n, 'base64url');
  if (e === undefined || e < 3n || e % 2n === 0n || e >= 2n ** 32n || n.length !== RSA_2048_BYTES || (n[n.length - 1]! & 1) === 0) {
    return 'It is not a usable RSA public key: the modulus must be odd and the exponent an odd number from 3 to 2^32 - 1 (normally 65537).';
  }
  return key;
}

/** RSA-OAEP encryption of `dataKey` (raw bytes) under `publicKey`; Base64, different on every call. */
export function wrapUnderPublicKey(publicKey: KeyObject, algorithm: ExportWrappingAlgorithm, dataKey: Buffer): string {
  try {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm].hash }, dataKey).toString('base64');
  } catch {
    // parseRsa2048PublicKey refuses the keys OpenSSL cannot use; a caller's odd key is still the caller's fault.
    throw new InvalidParameterError('PublicKeyBlob', 'The data key could not be encrypted under this public key.');
  }
}
