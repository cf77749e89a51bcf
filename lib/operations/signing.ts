import type { SigningAlgorithm } from '../crypto/key-spec.js';
import { signDigest, signMessage, verifyDigest, verifyMessage } from '../crypto/signature.js';
import type { KeyVersion } from '../keyring/versions.js';

/**
 * What a signature covers: a digest the caller computed with the algorithm's hash (Alibaba's
 * `Digest`, AWS `MessageType=DIGEST`), signed without hashing again, or a message hashed here (AWS
 * `RAW`). Either way the signature verifies over the message with any standard verifier.
 */
export type SignedData = { Digest: Buffer; Message?: undefined } | { Message: Buffer; Digest?: undefined };

/** The typed input of AsymmetricSign (and, with a signature, AsymmetricVerify). */
export type SigningInput = { KeyId: string; KeyVersionId?: string; SigningAlgorithm: SigningAlgorithm } & SignedData;

/** The key pair of a version that resolveUsableVersion found fit for signing. */
function pairOf(version: KeyVersion): Required<Pick<KeyVersion, 'privateKey' | 'publicKey'>> {
  if (!version.privateKey || !version.publicKey) throw new Error(`key version ${version.keyVersionId} holds no key pair`);
  return { privateKey: version.privateKey, publicKey: version.publicKey };
}

/** The version's signature of the data (RSA per PKCS #1, ECDSA as DER). The caller checked the algorithm fits the key and a digest's length. */
export function signWith(version: KeyVersion, algorithm: SigningAlgorithm, data: SignedData): Buffer {
  const { privateKey } = pairOf(version);
  return data.Digest ? signDigest(privateKey, algorithm, data.Digest) : signMessage(privateKey, algorithm, data.Message!);
}

/** Whether `signature` is the version's signature of the data; false for any bytes that are not, never a throw over them. */
export function verifyWith(version: KeyVersion, algorithm: SigningAlgorithm, data: SignedData, signature: Buffer): boolean {
  const { publicKey } = pairOf(version);
  return data.Digest ? verifyDigest(publicKey, algorithm, data.Digest, signature) : verifyMessage(publicKey, algorithm, data.Message!, signature);
}
