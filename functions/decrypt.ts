import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { openEnvelope } from '../lib/crypto/envelope.js';
import { blobFormOf, defineOperation } from '../lib/operation.js';
import { resolveUsableBlob } from '../lib/operations/resolve-key.js';
import { booleanParameter, ciphertextBlobParameter, encryptionContextParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * Decrypt: the blob names its key version, so no KeyId is taken. The caller is authorised on the
 * key that owns that version; old versions decrypt forever. Returns the exact string that was
 * wrapped (for a data key: the same Base64 `Plaintext` GenerateDataKey returned).
 */
export const operation = defineOperation({
  action: 'Decrypt',
  input: z.object({
    CiphertextBlob: ciphertextBlobParameter,
    // AWS's Decrypt `KeyId`, the key it expects (lib/aws/operations.ts); read only on that protocol.
    AwsKeyId: z.optional(z.string()),
    EncryptionContext: encryptionContextParameter('EncryptionContext'),
    DryRun: z.optional(booleanParameter),
  }),
  resolve: (input, context) =>
    resolveUsableBlob(input.CiphertextBlob, context, input.AwsKeyId === undefined || context.protocol !== 'aws' ? undefined : { keyId: input.AwsKeyId, parameter: 'KeyId' }),
  async execute(input, { blob, key, version }, context) {
    const form = blobFormOf(context);
    const plaintext = openEnvelope(version.material, blob, encodeEncryptionContext(input.EncryptionContext), form);
    try {
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, Plaintext: plaintext.toString(form === 'binary' ? 'base64' : 'utf8') };
    } finally {
      plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
