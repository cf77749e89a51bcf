import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import type { AsymmetricEncryptionAlgorithm } from '../lib/crypto/key-spec.js';
import { oaepDecrypt } from '../lib/crypto/rsa-oaep.js';
import { InvalidCiphertextError } from '../lib/errors.js';
import { assertEncryptionAlgorithm } from '../lib/operations/key-usage.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import {
  asymmetricEncryptionAlgorithmParameter,
  base64BytesParameter,
  booleanParameter,
  keyIdParameter,
  keyVersionIdParameter,
} from '../lib/protocol/alibaba/schema.js';
import { refuseEncryptionContext } from '../lib/protocol/aws/asymmetric-encryption.js';
import { asymmetricEncryptionAlgorithm, binary, keyId, namesAsymmetricEncryption, refuse } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** The most bytes a CiphertextBlob may hold on the wire (AWS's shape); an RSA ciphertext is the key's modulus length. */
const MAX_CIPHERTEXT_BYTES = 6144;

type AsymmetricDecryptInput = {
  KeyId: string;
  /** Alibaba names the version every time; AWS never (its requests use the key's newest). */
  KeyVersionId?: string | undefined;
  Algorithm: AsymmetricEncryptionAlgorithm;
  /** The bare RSAES-OAEP output. */
  CiphertextBlob: Buffer;
};
type AsymmetricDecryptOutput = { KeyId: string; KeyVersionId: string; Plaintext: string };

/**
 * AsymmetricDecrypt: opens a bare RSAES-OAEP ciphertext under an RSA ENCRYPT/DECRYPT key's version:
 * one made by AsymmetricEncrypt or by any standard OAEP implementation with the public key. The
 * Plaintext is Base64 of the raw bytes. A ciphertext that does not open (wrong length, another
 * key, version or algorithm, garbage) is 400 InvalidCiphertext, one answer for every cause.
 * AWS's Decrypt with an RSAES_* EncryptionAlgorithm is this Action: its KeyId is then required
 * and names the key whose newest version decrypts (older versions are not tried: an AWS client
 * that encrypted under an older version names it through the Alibaba Action).
 */
export const action = defineAction({
  name: 'AsymmetricDecrypt',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.object({
      KeyId: keyIdParameter,
      KeyVersionId: keyVersionIdParameter,
      Algorithm: asymmetricEncryptionAlgorithmParameter,
      CiphertextBlob: base64BytesParameter(MAX_CIPHERTEXT_BYTES),
      DryRun: z.optional(booleanParameter),
    }),
  },
  aws: [
    {
      target: 'Decrypt',
      when: (body) => namesAsymmetricEncryption(body),
      dryRun: true,
      input(body, scope): AsymmetricDecryptInput {
        refuse(body, ['Recipient']);
        const KeyId = keyId(body, scope);
        const Algorithm = asymmetricEncryptionAlgorithm(body);
        refuseEncryptionContext(body);
        return { KeyId, Algorithm, CiphertextBlob: binary(body, 'CiphertextBlob', MAX_CIPHERTEXT_BYTES) };
      },
      output: (o: AsymmetricDecryptOutput, c) => ({ KeyId: awsKeyArn(c, o.KeyId), Plaintext: o.Plaintext, EncryptionAlgorithm: c.body.EncryptionAlgorithm }),
    },
  ],
  async resolve(input: AsymmetricDecryptInput, context) {
    const resolved = await resolveUsableVersion(input, 'asymmetric-encryption', context);
    assertEncryptionAlgorithm(resolved.key, input.Algorithm);
    return resolved;
  },
  async execute(input, { key, version }): Promise<AsymmetricDecryptOutput> {
    const plaintext = oaepDecrypt(version.privateKey!, input.Algorithm, input.CiphertextBlob);
    if (plaintext === undefined) throw new InvalidCiphertextError();
    try {
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, Plaintext: plaintext.toString('base64') };
    } finally {
      plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
