import { constants, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { type AsymmetricEncryptionAlgorithm, hashOf, maxOaepPlaintextBytes } from './key-spec.js';

/**
 * RSAES-OAEP (RFC 8017 §7.1) for AsymmetricEncrypt / AsymmetricDecrypt and AWS Encrypt / Decrypt
 * with RSA keys: the algorithm's hash for OAEP and for MGF1 (node uses oaepHash for both), an empty
 * label, and the bare OAEP output as the ciphertext (no header), so that what a client encrypts
 * locally with the public key opens here and the other way round.
 */

function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  if (!bits) throw new Error('RSAES-OAEP needs an RSA key');
  return Math.ceil(bits / 8);
}

/**
 * Encrypts `plaintext` (at most k − 2·hLen − 2 bytes: 190 for RSA_2048 with SHA-256, 214 with
 * SHA-1). The caller checks the limit and answers 400; a longer plaintext or a non-RSA key throws here.
 */
export function oaepEncrypt(publicKey: KeyObject, algorithm: AsymmetricEncryptionAlgorithm, plaintext: Buffer): Buffer {
  const bytes = modulusBytes(publicKey);
  if (plaintext.length > maxOaepPlaintextBytes(bytes * 8, algorithm)) throw new Error(`Plaintext too long for ${algorithm} under this key`);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashOf(algorithm) }, plaintext);
}

/**
 * Decrypts an OAEP ciphertext, or undefined when it does not open: wrong length, another algorithm
 * or key, garbage. It never says which (a padding oracle is what OAEP's single failure avoids).
 */
export function oaepDecrypt(privateKey: KeyObject, algorithm: AsymmetricEncryptionAlgorithm, ciphertext: Buffer): Buffer | undefined {
  if (ciphertext.length !== modulusBytes(privateKey)) return undefined;
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashOf(algorithm) }, ciphertext);
  } catch {
    return undefined;
  }
}
