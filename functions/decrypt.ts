import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { type EncryptionContext, encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { openEnvelope, type SealedBlob } from '../lib/crypto/envelope.js';
import { defineAction } from '../lib/action.js';
import { resolveUsableBlob } from '../lib/operations/resolve-key.js';
import { booleanParameter, ciphertextBlobOf, ciphertextBlobParameter, encryptionContextParameter } from '../lib/protocol/alibaba/schema.js';
import { ciphertextBlob, encryptionAlgorithm, encryptionContext, expectedKeyId, namesAsymmetricEncryption, refuse } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';
import { action as asymmetricDecrypt } from './asymmetric-decrypt.js';

type DecryptInput = {
  CiphertextBlob: SealedBlob;
  EncryptionContext: EncryptionContext;
  /** The key the caller expects the blob to be under, and the parameter that named it. */
  expectedKey?: { keyId: string; parameter: string } | undefined;
};
type DecryptOutput = { KeyId: string; KeyVersionId: string; Plaintext: string };

/**
 * Decrypt: the blob names its key version, so no key need be named. The caller is authorised on
 * the key that owns that version; old versions decrypt forever. Returns what was wrapped, as it
 * was given (Alibaba: the exact text, for a data key the same Base64 `Plaintext` GenerateDataKey
 * returned; AWS: the bytes). AWS's optional `KeyId` names the key the caller expects the blob to
 * be under: another key is 400 IncorrectKey.
 */
export const action = defineAction({
  name: 'Decrypt',
  group: 'crypto',
  store: 'reads',
  // AWS's Decrypt with an RSAES_* EncryptionAlgorithm: served here too, without a forward.
  alsoServes: [asymmetricDecrypt],
  alibaba: {
    params: z.pipe(
      z.object({
        CiphertextBlob: ciphertextBlobParameter,
        EncryptionContext: encryptionContextParameter('EncryptionContext'),
        DryRun: z.optional(booleanParameter),
      }),
      z.transform((params): DecryptInput => ciphertextBlobOf(params)),
    ),
  },
  aws: [
    {
      target: 'Decrypt',
      // An RSAES_* EncryptionAlgorithm is AsymmetricDecrypt's (functions/asymmetric-decrypt.ts).
      when: (body) => !namesAsymmetricEncryption(body),
      dryRun: true,
      input(body, scope): DecryptInput {
        encryptionAlgorithm(body, 'EncryptionAlgorithm');
        refuse(body, ['Recipient']);
        const expectedKey = expectedKeyId(body, scope, 'KeyId');
        return { CiphertextBlob: ciphertextBlob(body), EncryptionContext: encryptionContext(body, 'EncryptionContext'), expectedKey };
      },
      output: (o: DecryptOutput, c) => ({ KeyId: awsKeyArn(c, o.KeyId), Plaintext: o.Plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
    },
  ],
  resolve: (input, context) => resolveUsableBlob(input.CiphertextBlob, context, input.expectedKey),
  async execute(input, { blob, key, version }, context): Promise<DecryptOutput> {
    const plaintext = openEnvelope(version.material, blob, encodeEncryptionContext(input.EncryptionContext), context.blobForm);
    try {
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, Plaintext: plaintext.toString(context.blobForm === 'binary' ? 'base64' : 'utf8') };
    } finally {
      plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
