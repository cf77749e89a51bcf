import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { type EncryptionContext, encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { openEnvelope, type SealedBlob, sealEnvelope } from '../lib/crypto/envelope.js';
import { assertKeyUsable } from '../lib/keyring/keyring.js';
import { defineAction } from '../lib/action.js';
import { assertKeyPurpose } from '../lib/operations/key-usage.js';
import { expectBlobKey, resolveAuthorizedKey, resolveAuthorizedVersion } from '../lib/operations/resolve-key.js';
import { booleanParameter, ciphertextBlobOf, ciphertextBlobParameter, encryptionContextParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { ciphertextBlob, encryptionAlgorithm, encryptionContext, expectedKeyId, keyId } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

type ReEncryptInput = {
  CiphertextBlob: SealedBlob;
  DestinationKeyId: string;
  SourceEncryptionContext: EncryptionContext;
  DestinationEncryptionContext: EncryptionContext;
  /** The key the caller expects the blob to be under, and the parameter that named it. */
  expectedSourceKey?: { keyId: string; parameter: string } | undefined;
};
type ReEncryptOutput = { KeyId: string; KeyVersionId: string; CiphertextBlob: string; SourceKeyId: string; SourceKeyVersionId: string };

/**
 * ReEncrypt: decrypts a blob and encrypts its plaintext under another key (or the same key's new
 * primary version) and context, inside the service; the plaintext never leaves and is zeroed.
 * The caller needs kms:ReEncrypt on both the source key (the one the blob names) and the
 * destination key; both must be Enabled. AWS's optional `SourceKeyId` names the key the caller
 * expects the blob to be under: another key is 400 IncorrectKey.
 */
export const action = defineAction({
  name: 'ReEncrypt',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({
        CiphertextBlob: ciphertextBlobParameter,
        DestinationKeyId: keyIdParameter,
        SourceEncryptionContext: encryptionContextParameter('SourceEncryptionContext'),
        DestinationEncryptionContext: encryptionContextParameter('DestinationEncryptionContext'),
        DryRun: z.optional(booleanParameter),
      }),
      z.transform((params): ReEncryptInput => ciphertextBlobOf(params)),
    ),
  },
  aws: [
    {
      target: 'ReEncrypt',
      dryRun: true,
      input(body, scope): ReEncryptInput {
        encryptionAlgorithm(body, 'SourceEncryptionAlgorithm');
        encryptionAlgorithm(body, 'DestinationEncryptionAlgorithm');
        const expectedSourceKey = expectedKeyId(body, scope, 'SourceKeyId');
        return {
          CiphertextBlob: ciphertextBlob(body),
          expectedSourceKey,
          DestinationKeyId: keyId(body, scope, 'DestinationKeyId'),
          SourceEncryptionContext: encryptionContext(body, 'SourceEncryptionContext'),
          DestinationEncryptionContext: encryptionContext(body, 'DestinationEncryptionContext'),
        };
      },
      output: (o: ReEncryptOutput, c) => ({
        CiphertextBlob: o.CiphertextBlob,
        SourceKeyId: awsKeyArn(c, o.SourceKeyId),
        KeyId: awsKeyArn(c, o.KeyId),
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      }),
    },
  ],
  async resolve(input, context) {
    const blob = input.CiphertextBlob;
    // Each key is authorised with the context that goes with it, for kms:EncryptionContext:<key> conditions.
    const { key: source, version } = await resolveAuthorizedVersion(blob, context, { encryptionContext: input.SourceEncryptionContext });
    await expectBlobKey(source, context, input.expectedSourceKey);
    const destination = await resolveAuthorizedKey(input.DestinationKeyId, context, {
      parameter: 'DestinationKeyId',
      encryptionContext: input.DestinationEncryptionContext,
    });
    assertKeyUsable(source);
    assertKeyUsable(destination);
    assertKeyPurpose(destination, 'symmetric-encryption');
    return { blob, source, version, destination };
  },
  async execute(input, { blob, source, version, destination }, context): Promise<ReEncryptOutput> {
    const target = await context.service.keyring.primaryVersion(destination);
    // A blob keeps its form: it is opened and sealed again as the protocol it came through.
    const plaintext = openEnvelope(version.material, blob, encodeEncryptionContext(input.SourceEncryptionContext), context.blobForm);
    try {
      const sealed = sealEnvelope(
        target.material,
        target.keyVersionId,
        plaintext,
        encodeEncryptionContext(input.DestinationEncryptionContext),
        context.blobForm,
      );
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

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
