import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { openEnvelope } from '../lib/crypto/envelope.js';
import { wrapUnderPublicKey } from '../lib/crypto/public-key-wrap.js';
import { defineAction } from '../lib/action.js';
import { assertFitsWrapping, dataKeyOfPlaintext, exportParameters } from '../lib/operations/data-key-export.js';
import { resolveUsableBlob } from '../lib/operations/resolve-key.js';
import { booleanParameter, ciphertextBlobOf, ciphertextBlobParameter, encryptionContextParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * ExportDataKey: the data key inside a CiphertextBlob, re-wrapped under the caller's RSA public key
 * (for an HSM or another party holding the private key). Authorised, and refused by key state,
 * as Decrypt; the plaintext is never returned.
 */
export const action = defineAction({
  name: 'ExportDataKey',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({
        CiphertextBlob: ciphertextBlobParameter,
        ...exportParameters,
        EncryptionContext: encryptionContextParameter('EncryptionContext'),
        DryRun: z.optional(booleanParameter),
      }),
      z.transform(ciphertextBlobOf),
    ),
  },
  resolve: (input, context) => resolveUsableBlob(input.CiphertextBlob, context),
  async execute(input, { blob, key, version }) {
    const wrapped = openEnvelope(version.material, blob, encodeEncryptionContext(input.EncryptionContext));
    let dataKey: Buffer | undefined;
    try {
      dataKey = dataKeyOfPlaintext(wrapped);
      assertFitsWrapping(dataKey.length, input.WrappingAlgorithm, 'CiphertextBlob');
      return {
        KeyId: key.keyId,
        KeyVersionId: version.keyVersionId,
        ExportedDataKey: wrapUnderPublicKey(input.PublicKeyBlob, input.WrappingAlgorithm, dataKey),
      };
    } finally {
      wrapped.fill(0);
      dataKey?.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
