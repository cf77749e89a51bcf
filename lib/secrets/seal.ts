import { encodeEncryptionContext } from '../crypto/encryption-context.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from '../crypto/envelope.js';
import { randomBytesFromPool } from '../crypto/random-pool.js';
import { KeyNotFoundError, KeyVersionNotFoundError } from '../errors.js';
import { assertKeyUsable, type Keyring, type KeyVersion } from '../keyring/keyring.js';
import { assertKeyPurpose } from '../operations/key-usage.js';

/*
 * The envelope of one secret version: a fresh 32-byte data key per version, from the CMK's primary
 * version; the value sealed under it with AES-256-GCM, the data key sealed under the CMK version.
 * Both are the service's ciphertext blobs (lib/crypto/envelope.ts: key version id ‖ IV ‖
 * ciphertext ‖ tag, binary form), both bound to the same context: the secret's acs ARN, its AWS ARN
 * suffix (so a re-created name never opens the old values) and the version id. Only the two blobs
 * are stored; the data key and the plaintext are zeroed once used.
 */

export const DATA_KEY_BYTES = 32;

/** What a version's ciphertext is bound to. */
export interface SealBinding {
  /** The acs ARN (`acs:kms:<region>:<account>:secret/<name>`). */
  arn: string;
  /** The AWS ARN's six-character suffix. */
  suffix: string;
  versionId: string;
}

/** A version's value as stored: the two Base64 blobs. */
export interface SealedValue {
  keyId: string;
  wrappedKey: string;
  ciphertext: string;
}

function contextOf(binding: SealBinding): Buffer {
  return encodeEncryptionContext(
    new Map([
      ['secret:arn', binding.arn],
      ['secret:arn-suffix', binding.suffix],
      ['secret:version-id', binding.versionId],
    ]),
  );
}

/** Seals `plaintext` under a new data key wrapped under `cmk` (a symmetric version). The caller keeps and zeroes `plaintext`. */
export function sealWithVersion(cmk: KeyVersion, binding: SealBinding, plaintext: Buffer): SealedValue {
  const context = contextOf(binding);
  const dataKey = randomBytesFromPool(DATA_KEY_BYTES);
  try {
    return {
      keyId: cmk.keyId,
      wrappedKey: sealEnvelope(cmk.material, cmk.keyVersionId, dataKey, context, 'binary'),
      ciphertext: sealEnvelope(dataKey, cmk.keyVersionId, plaintext, context, 'binary'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The CMK version a sealed value's data key is wrapped under (named by its blob). Throws
 * InvalidParameterError when the stored blob is not one (a damaged store).
 */
export function wrappingVersionOf(sealed: SealedValue): string {
  return parseEnvelope(sealed.wrappedKey, 'wrappedKey').keyVersionId;
}

/**
 * Opens a sealed value with the CMK version that wrapped its data key. Any tampering (blob,
 * binding, another key) is InvalidCiphertextError; nothing partial is returned. The caller zeroes
 * the plaintext it gets.
 */
export function openWithVersion(cmk: KeyVersion, binding: SealBinding, sealed: SealedValue): Buffer {
  const context = contextOf(binding);
  const wrapped = parseEnvelope(sealed.wrappedKey, 'wrappedKey');
  const blob = parseEnvelope(sealed.ciphertext, 'ciphertext');
  const dataKey = openEnvelope(cmk.material, wrapped, context, 'binary');
  try {
    return openEnvelope(dataKey, blob, context, 'binary');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Seals and opens values with the keyring's CMKs. The key must be an Enabled symmetric key, for
 * sealing and opening alike: a Disabled or PendingDeletion key fails with the key-state errors
 * (KeyDisabledError, KeyPendingDeletionError), an unknown one with KeyNotFoundError.
 */
export class SecretSealer {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  async #usableKey(keyId: string) {
    const key = await this.#keyring.findKey(keyId);
    if (!key) throw new KeyNotFoundError(keyId);
    assertKeyUsable(key);
    assertKeyPurpose(key, 'symmetric-encryption');
    return key;
  }

  /** Throws unless `keyId` names a key values can be sealed under now. */
  async assertSealable(keyId: string): Promise<void> {
    await this.#usableKey(keyId);
  }

  async seal(keyId: string, binding: SealBinding, plaintext: Buffer): Promise<SealedValue> {
    const key = await this.#usableKey(keyId);
    return sealWithVersion(await this.#keyring.primaryVersion(key), binding, plaintext);
  }

  async open(binding: SealBinding, sealed: SealedValue): Promise<Buffer> {
    const key = await this.#usableKey(sealed.keyId);
    const keyVersionId = wrappingVersionOf(sealed);
    const version = await this.#keyring.versions.findOfKey(key.keyId, keyVersionId);
    if (!version) throw new KeyVersionNotFoundError(keyVersionId);
    return openWithVersion(version, binding, sealed);
  }
}
