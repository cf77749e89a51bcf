import { type AsymmetricEncryptionAlgorithm, type KeyUsage, type MacAlgorithm, type SigningAlgorithm, specOf, usageOf } from '../crypto/key-spec.js';
import { KeyUsageError, UnsupportedKeyOperationError } from '../errors.js';
import type { KeyRecord } from '../keyring/records.js';

/**
 * What a cryptographic Action needs of its key. Every key does one of these for life: its spec and
 * usage are fixed at creation (an RSA key signs or encrypts, never both).
 */
export type KeyPurpose = 'symmetric-encryption' | 'signing' | 'asymmetric-encryption' | 'mac' | 'public-key';

/** `usage` absent: any usage. `unsupported`: a key of another kind is refused as not having the operation at all (GetPublicKey). */
const NEEDS: Readonly<Record<KeyPurpose, { kinds: readonly string[]; usage?: KeyUsage; what: string; unsupported?: true }>> = {
  'symmetric-encryption': {
    kinds: ['symmetric'],
    usage: 'ENCRYPT/DECRYPT',
    what: 'Encrypt, Decrypt, ReEncrypt and the data-key Actions need a symmetric key (Aliyun_AES_256, AWS SYMMETRIC_DEFAULT)',
  },
  signing: { kinds: ['rsa', 'ec'], usage: 'SIGN/VERIFY', what: 'signing and verifying need an RSA or EC key with KeyUsage SIGN/VERIFY' },
  'asymmetric-encryption': {
    kinds: ['rsa'],
    usage: 'ENCRYPT/DECRYPT',
    what: 'asymmetric encryption needs an RSA key with KeyUsage ENCRYPT/DECRYPT',
  },
  mac: { kinds: ['hmac'], usage: 'GENERATE_VERIFY_MAC', what: 'MACs need an HMAC key (KeyUsage GENERATE_VERIFY_MAC)' },
  'public-key': { kinds: ['rsa', 'ec'], what: 'only RSA and EC keys have a public key', unsupported: true },
};

/** Throws {@link KeyUsageError} (for `public-key`, {@link UnsupportedKeyOperationError}) unless the key's spec and usage serve `purpose`. */
export function assertKeyPurpose(key: Pick<KeyRecord, 'keyId' | 'keySpec' | 'keyUsage'>, purpose: KeyPurpose): void {
  const need = NEEDS[purpose];
  const spec = specOf(key);
  const usage = usageOf(key);
  if (!need.kinds.includes(spec.kind) || (need.usage !== undefined && usage !== need.usage)) {
    const reason = `its KeySpec is ${spec.spec} and its KeyUsage ${usage}; ${need.what}.`;
    throw need.unsupported ? new UnsupportedKeyOperationError(key.keyId, reason) : new KeyUsageError(key.keyId, reason);
  }
}

/** Throws {@link KeyUsageError} unless the key (a signing key) supports this signing algorithm. */
export function assertSigningAlgorithm(key: Pick<KeyRecord, 'keyId' | 'keySpec'>, algorithm: SigningAlgorithm): void {
  const spec = specOf(key);
  if (!spec.signingAlgorithms.includes(algorithm)) {
    throw new KeyUsageError(key.keyId, `${algorithm} is not a signing algorithm of ${spec.spec} keys (${spec.signingAlgorithms.join(', ') || 'none'}).`);
  }
}

/** Throws {@link KeyUsageError} unless the key (an RSA encryption key) supports this algorithm. */
export function assertEncryptionAlgorithm(key: Pick<KeyRecord, 'keyId' | 'keySpec'>, algorithm: AsymmetricEncryptionAlgorithm): void {
  const spec = specOf(key);
  if (!spec.encryptionAlgorithms.includes(algorithm)) {
    throw new KeyUsageError(key.keyId, `${algorithm} is not an encryption algorithm of ${spec.spec} keys (${spec.encryptionAlgorithms.join(', ') || 'none'}).`);
  }
}

/** Throws {@link KeyUsageError} unless the key (an HMAC key) has this MAC algorithm. */
export function assertMacAlgorithm(key: Pick<KeyRecord, 'keyId' | 'keySpec'>, algorithm: MacAlgorithm): void {
  const spec = specOf(key);
  if (spec.macAlgorithm !== algorithm) {
    throw new KeyUsageError(key.keyId, `${algorithm} is not the MAC algorithm of ${spec.spec} keys (${spec.macAlgorithm ?? 'none'}).`);
  }
}
