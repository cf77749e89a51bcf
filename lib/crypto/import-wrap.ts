import { constants, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The wrapping of imported key material (GetParametersForImport, ImportKeyMaterial): a fresh
 * RSA-2048 pair per call; the caller encrypts the raw material under the public key with one of
 * Alibaba's three algorithms, and the service unwraps it with the private key.
 */

export const IMPORT_WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSAES_PKCS1_V1_5'] as const;
export type ImportWrappingAlgorithm = (typeof IMPORT_WRAPPING_ALGORITHMS)[number];

const RSA_BYTES = 256;
const generateRsaKeyPair = promisify(generateKeyPair);

/** A new RSA-2048 pair (e = 65537): the public key as Base64 DER SubjectPublicKeyInfo, the private one as PKCS#8 DER. */
export async function newWrappingKeyPair(): Promise<{ publicKey: string; privateKey: Buffer }> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: RSA_BYTES * 8, publicExponent: 0x10001 });
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}

/**
 * The caller's side: `material` encrypted under a GetParametersForImport `PublicKey` (Base64 DER
 * SubjectPublicKeyInfo) as Alibaba's samples do it (openssl, Java, Go), Base64 — the
 * `EncryptedKeyMaterial` ImportKeyMaterial takes. Used by `kms keys import-material`.
 */
export function wrapMaterial(publicKey: string, algorithm: ImportWrappingAlgorithm, material: Buffer): string {
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  if (algorithm === 'RSAES_PKCS1_V1_5') return publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, material).toString('base64');
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' }, material).toString(
    'base64',
  );
}

/**
 * The material inside `wrapped`, or undefined when it does not unwrap to exactly `length` bytes.
 * Every failure is the same undefined; for PKCS#1 v1.5 the padding is checked in constant time
 * over a raw RSA decryption (Node refuses PKCS#1 v1.5 decryption since CVE-2023-46809, and a
 * padding check that branches would be a Bleichenbacher oracle). OAEP uses the same hash for MGF1
 * and an empty label, as Alibaba's samples (openssl -oaep, Java, Go) do.
 */
export function unwrapMaterial(privateKeyDer: Buffer, algorithm: ImportWrappingAlgorithm, wrapped: Buffer, length: number): Buffer | undefined {
  if (wrapped.length !== RSA_BYTES) return undefined;
  const key: KeyObject = createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' });
  if (algorithm === 'RSAES_PKCS1_V1_5') {
    let block: Buffer;
    try {
      block = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, wrapped);
    } catch {
      return undefined;
    }
    try {
      return pkcs1Unpad(block, length);
    } finally {
      block.fill(0);
    }
  }
  let material: Buffer;
  try {
    material = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' }, wrapped);
  } catch {
    return undefined;
  }
  if (material.length === length) return material;
  material.fill(0);
  return undefined;
}

/**
 * EME-PKCS1-v1_5 decoding of a 256-byte block `00 02 PS 00 M` (PS: at least 8 non-zero bytes),
 * accepting only a message of `length` bytes. Constant time: every byte is read, and the outcome
 * is folded into one flag without branching on secret data until the end.
 */
function pkcs1Unpad(block: Buffer, length: number): Buffer | undefined {
  const start = block.length - length;
  let bad = block[0]! | (block[1]! ^ 0x02);
  // The separator must be at start - 1, and every padding byte before it non-zero.
  for (let i = 2; i < start - 1; i++) bad |= isZero(block[i]!);
  bad |= block[start - 1]!;
  bad |= start - 1 < 10 ? 1 : 0;
  return bad === 0 ? Buffer.from(block.subarray(start)) : undefined;
}

/** 1 when `b` is zero, else 0, without a branch. */
function isZero(b: number): number {
  return ((b | -b) >>> 31) ^ 1;
}
