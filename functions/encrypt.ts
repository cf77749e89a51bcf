import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { sealEnvelope } from '../lib/crypto/envelope.js';
import type { ResolvedKey } from '../lib/keyring/keyring.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { booleanParameter, encryptionContextParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { binary, encryptionAlgorithm, encryptionContext, keyId, namesAsymmetricEncryption } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';
import { action as asymmetricEncrypt } from './asymmetric-encrypt.js';

type EncryptOutput = { KeyId: string; KeyVersionId: string; CiphertextBlob: string };

/** Alibaba's limit on Encrypt's Plaintext, in UTF-8 bytes. */
export const MAX_PLAINTEXT_BYTES = 6144;

/**
 * Encrypt: wraps `Plaintext` under the key's primary version: Alibaba's is text (≤ 6 KiB of UTF-8,
 * wrapped as its UTF-8 bytes), AWS's binary (≤ 4 KiB).
 */
export const action = defineAction({
  name: 'Encrypt',
  group: 'crypto',
  store: 'reads',
  // AWS's Encrypt with an RSAES_* EncryptionAlgorithm: served here too, without a forward.
  alsoServes: [asymmetricEncrypt],
  alibaba: {
    params: z.object({
      KeyId: keyIdParameter,
      Plaintext: z.pipe(
        z.string().check(
          z.minLength(1, { error: 'It must not be empty.' }),
          z.refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_PLAINTEXT_BYTES, { error: `It must be at most ${MAX_PLAINTEXT_BYTES} bytes of UTF-8.` }),
        ),
        z.transform((text: string) => Buffer.from(text, 'utf8')),
      ),
      EncryptionContext: encryptionContextParameter('EncryptionContext'),
      DryRun: z.optional(booleanParameter),
    }),
  },
  aws: [
    {
      target: 'Encrypt',
      // An RSAES_* EncryptionAlgorithm is AsymmetricEncrypt's (functions/asymmetric-encrypt.ts).
      when: (body) => !namesAsymmetricEncryption(body),
      dryRun: true,
      input(body, scope) {
        encryptionAlgorithm(body, 'EncryptionAlgorithm');
        return { KeyId: keyId(body, scope), Plaintext: binary(body, 'Plaintext', 4096), EncryptionContext: encryptionContext(body, 'EncryptionContext') };
      },
      output: (o: EncryptOutput, c) => ({ CiphertextBlob: o.CiphertextBlob, KeyId: awsKeyArn(c, o.KeyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
    },
  ],
  resolve: (input, context): Promise<ResolvedKey> => resolveAuthorizedKey(input.KeyId, context, { usable: true }),
  async execute(input, key, context): Promise<EncryptOutput> {
    const version = await context.service.keyring.primaryVersion(key);
    try {
      const blob = sealEnvelope(version.material, version.keyVersionId, input.Plaintext, encodeEncryptionContext(input.EncryptionContext), context.blobForm);
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, CiphertextBlob: blob };
    } finally {
      input.Plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
