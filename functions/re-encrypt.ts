import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { openEnvelope, parseEnvelope, sealEnvelope } from '../lib/crypto/envelope.js';
import { assertKeyUsable } from '../lib/keyring/keyring.js';
import { blobFormOf, defineOperation } from '../lib/operation.js';
import { expectBlobKey, resolveAuthorizedKey, resolveAuthorizedVersion } from '../lib/operations/resolve-key.js';
import { booleanParameter, ciphertextBlobParameter, encryptionContextParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * ReEncrypt: decrypts a blob and encrypts its plaintext under another key (or the same key's new
 * primary version) and context, inside the service; the plaintext never leaves and is zeroed.
 * The caller needs kms:ReEncrypt on both the source key (the one the blob names) and the
 * destination key; both must be Enabled.
 */
export const operation = defineOperation({
  action: 'ReEncrypt',
  input: z.object({
    CiphertextBlob: ciphertextBlobParameter,
    DestinationKeyId: keyIdParameter,
    // AWS's ReEncrypt `SourceKeyId`, the key it expects the blob under; read only on that protocol.
    AwsSourceKeyId: z.optional(z.string()),
    SourceEncryptionContext: encryptionContextParameter('SourceEncryptionContext'),
    DestinationEncryptionContext: encryptionContextParameter('DestinationEncryptionContext'),
    DryRun: z.optional(booleanParameter),
  }),
  async resolve(input, context) {
    const blob = parseEnvelope(input.CiphertextBlob);
    // Each key is authorised with the context that goes with it, for kms:EncryptionContext:<key> conditions.
    const { key: source, version } = await resolveAuthorizedVersion(blob, context, { encryptionContext: input.SourceEncryptionContext });
    await expectBlobKey(source, context, input.AwsSourceKeyId === undefined || context.protocol !== 'aws' ? undefined : { keyId: input.AwsSourceKeyId, parameter: 'SourceKeyId' });
    const destination = await resolveAuthorizedKey(input.DestinationKeyId, context, {
      parameter: 'DestinationKeyId',
      encryptionContext: input.DestinationEncryptionContext,
    });
    assertKeyUsable(source);
    assertKeyUsable(destination);
    return { blob, source, version, destination };
  },
  async execute(input, { blob, source, version, destination }, context) {
    const target = await context.service.keyring.primaryVersion(destination);
    // A blob keeps its form: it is opened and sealed again as the protocol it came through.
    const form = blobFormOf(context);
    const plaintext = openEnvelope(version.material, blob, encodeEncryptionContext(input.SourceEncryptionContext), form);
    try {
      const sealed = sealEnvelope(target.material, target.keyVersionId, plaintext, encodeEncryptionContext(input.DestinationEncryptionContext), form);
      return {
        KeyId: destination.keyId,
        KeyVersionId: target.keyVersionId,
        CiphertextBlob: sealed,
        SourceKeyId: source.keyId,
        SourceKeyVersionId: version.keyVersionId,
      };
    } finally {
      plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
