import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { wrapUnderPublicKey } from '../lib/crypto/public-key-wrap.js';
import type { ResolvedKey } from '../lib/keyring/keyring.js';
import { defineOperation } from '../lib/operation.js';
import { dataKeyFields, sealNewDataKey, withDataKeyLength } from '../lib/operations/data-key.js';
import { assertFitsWrapping, exportParameters } from '../lib/operations/data-key-export.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';

/**
 * GenerateAndExportDataKey: a new data key, wrapped under the CMK (`CiphertextBlob`, as
 * GenerateDataKeyWithoutPlaintext) and under the caller's RSA public key (`ExportedDataKey`).
 * The plaintext is never returned. A length the public key cannot carry is refused before any
 * key is made.
 */
export const operation = defineOperation({
  action: 'GenerateAndExportDataKey',
  input: z.pipe(
    z.object({ ...dataKeyFields, ...exportParameters }),
    z.transform((fields) => {
      const input = withDataKeyLength(fields);
      assertFitsWrapping(input.length, input.WrappingAlgorithm, input.lengthParameter);
      return input;
    }),
  ),
  resolve: (input, context): Promise<ResolvedKey> => resolveAuthorizedKey(input.KeyId, context, { usable: true }),
  async execute(input, key, context) {
    const version = await context.service.keyring.primaryVersion(key);
    const sealed = sealNewDataKey(version, input.length, input.EncryptionContext);
    try {
      return {
        KeyId: key.keyId,
        KeyVersionId: version.keyVersionId,
        CiphertextBlob: sealed.blob,
        ExportedDataKey: wrapUnderPublicKey(input.PublicKeyBlob, input.WrappingAlgorithm, sealed.dataKey),
      };
    } finally {
      sealed.wipe();
    }
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
