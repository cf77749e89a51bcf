import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { wrapUnderPublicKey } from '../lib/crypto/public-key-wrap.js';
import type { ResolvedKey } from '../lib/keyring/keyring.js';
import { defineAction } from '../lib/action.js';
import { sealNewDataKey, withDataKeyLength } from '../lib/operations/data-key.js';
import { dataKeyParameters } from '../lib/protocol/alibaba/schema.js';
import { assertFitsWrapping, exportParameters } from '../lib/operations/data-key-export.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';

/**
 * GenerateAndExportDataKey: a new data key, wrapped under the CMK (`CiphertextBlob`, as
 * GenerateDataKeyWithoutPlaintext) and under the caller's RSA public key (`ExportedDataKey`).
 * The plaintext is never returned. A length the public key cannot carry is refused before any
 * key is made.
 */
export const action = defineAction({
  name: 'GenerateAndExportDataKey',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({ ...dataKeyParameters, ...exportParameters }),
      z.transform((fields) => {
        const input = withDataKeyLength(fields);
        assertFitsWrapping(input.length, input.WrappingAlgorithm, input.lengthParameter);
        return input;
      }),
    ),
  },
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

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
