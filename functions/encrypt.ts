import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { encodeEncryptionContext } from '../lib/crypto/encryption-context.js';
import { sealEnvelope } from '../lib/crypto/envelope.js';
import type { ResolvedKey } from '../lib/keyring/keyring.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { blobFormOf, defineOperation } from '../lib/operation.js';
import { booleanParameter, encryptionContextParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** Alibaba's limit on Encrypt's Plaintext, in UTF-8 bytes. */
export const MAX_PLAINTEXT_BYTES = 6144;

/** Encrypt: wraps the UTF-8 bytes of `Plaintext` (≤ 6 KiB) under the key's primary version. */
export const operation = defineOperation({
  action: 'Encrypt',
  input: z.object({
    KeyId: keyIdParameter,
    Plaintext: z
      .string()
      .check(
        z.minLength(1, { error: 'It must not be empty.' }),
        z.refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_PLAINTEXT_BYTES, { error: `It must be at most ${MAX_PLAINTEXT_BYTES} bytes of UTF-8.` }),
      ),
    EncryptionContext: encryptionContextParameter('EncryptionContext'),
    DryRun: z.optional(booleanParameter),
  }),
  resolve: (input, context): Promise<ResolvedKey> => resolveAuthorizedKey(input.KeyId, context, { usable: true }),
  async execute(input, key, context) {
    const version = await context.service.keyring.primaryVersion(key);
    // The AWS protocol carries bytes (Base64 in its JSON, checked there); Alibaba's carries text.
    const form = blobFormOf(context);
    const plaintext = Buffer.from(input.Plaintext, form === 'binary' ? 'base64' : 'utf8');
    try {
      const blob = sealEnvelope(version.material, version.keyVersionId, plaintext, encodeEncryptionContext(input.EncryptionContext), form);
      return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, CiphertextBlob: blob };
    } finally {
      plaintext.fill(0);
    }
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
