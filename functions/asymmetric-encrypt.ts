import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { type AsymmetricEncryptionAlgorithm, maxOaepPlaintextBytes } from '../lib/crypto/key-spec.js';
import { oaepEncrypt } from '../lib/crypto/rsa-oaep.js';
import { InvalidParameterError } from '../lib/errors.js';
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
import { asymmetricEncryptionAlgorithm, binary, keyId, namesAsymmetricEncryption } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** The most bytes a Plaintext may hold on the wire (AWS's shape); the key's OAEP limit is checked against the key. */
const MAX_PLAINTEXT_BYTES = 4096;

type AsymmetricEncryptInput = {
  KeyId: string;
  /** Alibaba names the version every time; AWS never (its requests use the key's newest). */
  KeyVersionId?: string | undefined;
  Algorithm: AsymmetricEncryptionAlgorithm;
  /** Raw bytes (Alibaba sends Base64 of bytes here, unlike Encrypt's text); zeroed after use. */
  Plaintext: Buffer;
};
type AsymmetricEncryptOutput = { KeyId: string; KeyVersionId: string; CiphertextBlob: string };

/**
 * AsymmetricEncrypt: RSAES-OAEP under an RSA ENCRYPT/DECRYPT key's version (MGF1 with the OAEP hash,
 * empty label). The ciphertext is the bare OAEP output, no header: what any standard OAEP
 * implementation makes with the public key, so either side can encrypt and the other decrypt.
 * The plaintext is at most k − 2·hLen − 2 bytes (RSA_2048: 190 with SHA-256, 214 with SHA-1);
 * more is 400 naming Plaintext. AWS's Encrypt with an RSAES_* EncryptionAlgorithm is this Action
 * (on the key's newest version; no EncryptionContext, as AWS refuses it for RSA keys).
 */
export const action = defineAction({
  name: 'AsymmetricEncrypt',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.object({
      KeyId: keyIdParameter,
      KeyVersionId: keyVersionIdParameter,
      Algorithm: asymmetricEncryptionAlgorithmParameter,
      Plaintext: base64BytesParameter(MAX_PLAINTEXT_BYTES),
      DryRun: z.optional(booleanParameter),
    }),
  },
  aws: [
    {
      target: 'Encrypt',
      when: (body) => namesAsymmetricEncryption(body),
      dryRun: true,
      input(body, scope): AsymmetricEncryptInput {
        const KeyId = keyId(body, scope);
        const Algorithm = asymmetricEncryptionAlgorithm(body);
        refuseEncryptionContext(body);
        return { KeyId, Algorithm, Plaintext: binary(body, 'Plaintext', MAX_PLAINTEXT_BYTES) };
      },
      output: (o: AsymmetricEncryptOutput, c) => ({
        CiphertextBlob: o.CiphertextBlob,
        KeyId: awsKeyArn(c, o.KeyId),
        EncryptionAlgorithm: c.body.EncryptionAlgorithm,
      }),
    },
  ],
  async resolve(input: AsymmetricEncryptInput, context) {
    try {
      const resolved = await resolveUsableVersion(input, 'asymmetric-encryption', context);
      assertEncryptionAlgorithm(resolved.key, input.Algorithm);
      const limit = maxOaepPlaintextBytes(resolved.version.spec.bits!, input.Algorithm);
      if (input.Plaintext.length > limit) {
        throw new InvalidParameterError('Plaintext', `${input.Algorithm} under a ${resolved.version.spec.spec} key encrypts at most ${limit} bytes.`);
      }
      return resolved;
    } catch (err) {
      input.Plaintext.fill(0);
      throw err;
    }
  },
  async execute(input, { key, version }): Promise<AsymmetricEncryptOutput> {
    try {
      const ciphertext = oaepEncrypt(version.publicKey!, input.Algorithm, input.Plaintext);
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, CiphertextBlob: ciphertext.toString('base64') };
    } finally {
      input.Plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
