import { KmsApiError } from './api-errors.js';

/** What the typed calls need of a client: KmsClient's two signed calls. */
export interface SignedCalls {
  call(action: string, params: Readonly<Record<string, string | number | undefined>>): Promise<Record<string, unknown>>;
  callAws(operation: string, body: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>>;
}

/*
 * Typed calls of the asymmetric and HMAC Actions: Alibaba's AsymmetricSign / AsymmetricVerify /
 * GetPublicKey / AsymmetricEncrypt / AsymmetricDecrypt (API 2016-01-20), and AWS's GenerateMac /
 * VerifyMac, which the Alibaba API does not have (sent through the AWS KMS protocol the
 * self-hosted service also speaks; Alibaba Cloud KMS has no HMAC keys).
 */

/** Alibaba's signing algorithms: RSA keys RSA_PSS_SHA_256 or RSA_PKCS1_SHA_256, EC keys ECDSA_SHA_256. */
export type SigningAlgorithmName = 'RSA_PSS_SHA_256' | 'RSA_PKCS1_SHA_256' | 'ECDSA_SHA_256';
/** RSA encryption (OAEP with MGF1 of the same hash, empty label). */
export type AsymmetricEncryptionAlgorithmName = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';
/** The MAC algorithm of an HMAC key: the one of its spec (HMAC_256 keys HMAC_SHA_256, …). */
export type MacAlgorithmName = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';

/** Binary input: bytes, or their Base64 text. */
export type BinaryInput = Uint8Array | string;

/** The key and version an asymmetric Action used (the key's id even when an alias named it). */
export interface UsedKeyVersion {
  keyId: string;
  keyVersionId: string;
}

const base64Of = (value: BinaryInput): string =>
  typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string')
    throw new KmsApiError('InvalidResponse', `the answer has no ${name}`, 200, typeof body.RequestId === 'string' ? body.RequestId : undefined);
  return value;
}

const usedVersion = (body: Record<string, unknown>): UsedKeyVersion => ({ keyId: text(body, 'KeyId'), keyVersionId: text(body, 'KeyVersionId') });

/** AsymmetricSign: the signature of a digest (SHA-256 of the message, 32 bytes), DER for ECDSA. */
export async function signDigest(
  client: SignedCalls,
  keyId: string,
  keyVersionId: string,
  algorithm: SigningAlgorithmName,
  digest: BinaryInput,
): Promise<UsedKeyVersion & { signature: Buffer }> {
  const body = await client.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Digest: base64Of(digest) });
  return { ...usedVersion(body), signature: Buffer.from(text(body, 'Value'), 'base64') };
}

/** AsymmetricVerify: whether `signature` is a signature of `digest` under the key version (false is an answer, not an error). */
export async function verifyDigest(
  client: SignedCalls,
  keyId: string,
  keyVersionId: string,
  algorithm: SigningAlgorithmName,
  digest: BinaryInput,
  signature: BinaryInput,
): Promise<boolean> {
  const body = await client.call('AsymmetricVerify', {
    KeyId: keyId,
    KeyVersionId: keyVersionId,
    Algorithm: algorithm,
    Digest: base64Of(digest),
    Value: base64Of(signature),
  });
  // A JSON boolean; the official SDK also reads the text "true".
  return body.Value === true || body.Value === 'true';
}

/** GetPublicKey: the key version's public key, PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). */
export async function getPublicKey(client: SignedCalls, keyId: string, keyVersionId: string): Promise<UsedKeyVersion & { publicKeyPem: string }> {
  const body = await client.call('GetPublicKey', { KeyId: keyId, KeyVersionId: keyVersionId });
  return { ...usedVersion(body), publicKeyPem: text(body, 'PublicKey') };
}

/** AsymmetricEncrypt: RSA-OAEP of raw bytes (at most 190 bytes for RSA_2048 with SHA-256, 214 with SHA-1). */
export async function asymmetricEncrypt(
  client: SignedCalls,
  keyId: string,
  keyVersionId: string,
  algorithm: AsymmetricEncryptionAlgorithmName,
  plaintext: BinaryInput,
): Promise<UsedKeyVersion & { ciphertextBlob: Buffer }> {
  const body = await client.call('AsymmetricEncrypt', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Plaintext: base64Of(plaintext) });
  return { ...usedVersion(body), ciphertextBlob: Buffer.from(text(body, 'CiphertextBlob'), 'base64') };
}

/** AsymmetricDecrypt: the raw bytes of an RSA-OAEP ciphertext (made by the service or by anyone with the public key). The caller owns (and should zero) them. */
export async function asymmetricDecrypt(
  client: SignedCalls,
  keyId: string,
  keyVersionId: string,
  algorithm: AsymmetricEncryptionAlgorithmName,
  ciphertextBlob: BinaryInput,
): Promise<UsedKeyVersion & { plaintext: Buffer }> {
  const body = await client.call('AsymmetricDecrypt', {
    KeyId: keyId,
    KeyVersionId: keyVersionId,
    Algorithm: algorithm,
    CiphertextBlob: base64Of(ciphertextBlob),
  });
  return { ...usedVersion(body), plaintext: Buffer.from(text(body, 'Plaintext'), 'base64') };
}

/** GenerateMac (AWS protocol): the HMAC of a message (1–4096 bytes) under an HMAC key's newest version. `keyId` in the answer is the key's ARN. */
export async function generateMac(
  client: SignedCalls,
  keyId: string,
  algorithm: MacAlgorithmName,
  message: BinaryInput,
): Promise<{ keyId: string; macAlgorithm: MacAlgorithmName; mac: Buffer }> {
  const body = await client.callAws('GenerateMac', { KeyId: keyId, MacAlgorithm: algorithm, Message: base64Of(message) });
  return { keyId: text(body, 'KeyId'), macAlgorithm: text(body, 'MacAlgorithm') as MacAlgorithmName, mac: Buffer.from(text(body, 'Mac'), 'base64') };
}

/**
 * VerifyMac (AWS protocol): whether `mac` is the HMAC of `message` under the key. The service
 * answers a MAC that does not match with KMSInvalidMacException; this returns false for it (as
 * {@link verifyDigest} does for a signature) and throws every other error.
 */
export async function verifyMac(client: SignedCalls, keyId: string, algorithm: MacAlgorithmName, message: BinaryInput, mac: BinaryInput): Promise<boolean> {
  try {
    const body = await client.callAws('VerifyMac', { KeyId: keyId, MacAlgorithm: algorithm, Message: base64Of(message), Mac: base64Of(mac) });
    return body.MacValid === true;
  } catch (err) {
    if (err instanceof KmsApiError && err.code === 'KMSInvalidMacException') return false;
    throw err;
  }
}

/** The id of a key's newest version (ListKeyVersions lists them oldest first): for Actions that must name one. */
export async function newestKeyVersionId(client: SignedCalls, keyId: string): Promise<string> {
  type Page = { KeyVersions?: { KeyVersion?: Array<{ KeyVersionId?: string }> }; TotalCount?: number | string };
  const first = (await client.call('ListKeyVersions', { KeyId: keyId, PageNumber: 1, PageSize: 1 })) as Page;
  const total = Number(first.TotalCount ?? 0);
  const last = total > 1 ? ((await client.call('ListKeyVersions', { KeyId: keyId, PageNumber: total, PageSize: 1 })) as Page) : first;
  const id = last.KeyVersions?.KeyVersion?.[0]?.KeyVersionId;
  if (typeof id !== 'string') throw new KmsApiError('InvalidResponse', `ListKeyVersions names no version of "${keyId}"`, 200, undefined);
  return id;
}
