import { type EncryptionContext, encodeEncryptionContext } from '../crypto/encryption-context.js';
import { sealEnvelope } from '../crypto/envelope.js';
import { generateKeyPairDer } from '../crypto/key-pair.js';
import { KEY_SPEC_INFO, type KeySpec } from '../crypto/key-spec.js';
import type { ResolvedKey } from '../keyring/keyring.js';
import type { OperationContext } from '../operation.js';
import { resolveAuthorizedKey } from './resolve-key.js';

/** The typed input of GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext. */
export interface DataKeyPairInput {
  /** The symmetric key that wraps the private key. */
  KeyId: string;
  /** The pair's spec (an RSA or EC spec of the catalogue). */
  pairSpec: KeySpec;
  /** Bound to the wrapped private key: Decrypt needs the same. */
  EncryptionContext: EncryptionContext;
}

/** A data key pair as the Actions answer it (Base64 DER); GenerateDataKeyPairWithoutPlaintext has no PrivateKeyPlaintext. */
export type DataKeyPairOutput = {
  KeyId: string;
  KeyVersionId: string;
  /** AWS's name of the pair's spec (RSA_2048, ECC_NIST_P256, …). */
  KeyPairSpec: string;
  /** DER SubjectPublicKeyInfo. */
  PublicKey: string;
  /** DER PKCS #8 PrivateKeyInfo. */
  PrivateKeyPlaintext?: string;
  /** The PKCS #8 bytes sealed under the key's primary version like any blob: Decrypt returns them. */
  PrivateKeyCiphertextBlob: string;
};

/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext, one piece of work with a switch (as
 * GenerateDataKey's): a fresh RSA or EC key pair, its private key (PKCS #8) sealed under a
 * symmetric key's primary version with the EncryptionContext bound, the public key (SPKI) in the
 * clear, the private key in the clear or not. The usage rules of KMS keys do not apply to the pair.
 * The service keeps no copy: the private key's buffer is zeroed before the answer is sent (the
 * Base64 text of the answer is a string, which cannot be).
 */
export function dataKeyPairWork(options: { returnPrivateKey: boolean }) {
  return {
    resolve: (input: DataKeyPairInput, context: OperationContext): Promise<ResolvedKey> => resolveAuthorizedKey(input.KeyId, context, { usable: true }),
    async execute(input: DataKeyPairInput, key: ResolvedKey, context: OperationContext): Promise<DataKeyPairOutput> {
      const spec = KEY_SPEC_INFO[input.pairSpec];
      const version = await context.service.keyring.primaryVersion(key);
      // Made once the wrapping version is at hand, so no failure before the `finally` can drop an unzeroed private key.
      const { publicKeySpki, privateKeyPkcs8 } = await generateKeyPairDer(spec);
      try {
        const blob = sealEnvelope(version.material, version.keyVersionId, privateKeyPkcs8, encodeEncryptionContext(input.EncryptionContext), context.blobForm);
        return {
          KeyId: key.keyId,
          KeyVersionId: version.keyVersionId,
          KeyPairSpec: spec.awsName,
          PublicKey: publicKeySpki.toString('base64'),
          ...(options.returnPrivateKey ? { PrivateKeyPlaintext: privateKeyPkcs8.toString('base64') } : {}),
          PrivateKeyCiphertextBlob: blob,
        };
      } finally {
        privateKeyPkcs8.fill(0);
      }
    },
  };
}
