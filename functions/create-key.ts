import { randomBytes } from 'node:crypto';
import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { InvalidParameterError } from '../lib/errors.js';
import { DEFAULT_ROTATION_SECONDS, parseRotationInterval } from '../lib/keyring/rotation.js';
import { defineOperation } from '../lib/operation.js';
import { keyMetadata } from '../lib/operations/key-metadata.js';
import { parseTags } from '../lib/operations/tags.js';
import { booleanParameter, storedTextParameter } from '../lib/protocol/alibaba/schema.js';

const only = (value: string) => z.optional(z.literal(value, { error: `Only ${value} is supported.` }));

/** A new key id in Alibaba's current form: `key-` and 24 lower-case letters and digits. */
function newKeyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `key-${[...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * CreateKey: a symmetric `Aliyun_AES_256` key with one random version, and the `Tags` given (the
 * rules of TagResource). With `Origin=EXTERNAL` (bring your own key) the key has no material and
 * is PendingImport until ImportKeyMaterial. Authorised as `kms:CreateKey` on `*` (no key exists
 * yet to name).
 */
export const operation = defineOperation({
  action: 'CreateKey',
  input: z.pipe(
    z.object({
      KeySpec: only('Aliyun_AES_256'),
      KeyUsage: only('ENCRYPT/DECRYPT'),
      Origin: z.optional(z.enum(['Aliyun_KMS', 'EXTERNAL'], { error: 'It must be Aliyun_KMS or EXTERNAL.' })),
      ProtectionLevel: only('SOFTWARE'),
      Description: z.optional(storedTextParameter(8192)),
      EnableAutomaticRotation: z.optional(booleanParameter),
      RotationInterval: z.optional(z.string()),
      Tags: z.optional(z.string().check(z.maxLength(8_192, { error: 'It must be at most 8,192 characters.' }))),
      DryRun: z.optional(booleanParameter),
    }),
    z.transform((input) => {
      // Imported material is the caller's: it is never rotated here (a new key is the rotation).
      if (input.Origin === 'EXTERNAL' && input.EnableAutomaticRotation) {
        throw new InvalidParameterError('EnableAutomaticRotation', 'A key with Origin EXTERNAL cannot rotate automatically.');
      }
      return {
        ...input,
        // Validated even when rotation stays off, so a bad value is never silently accepted.
        rotationSeconds: input.RotationInterval === undefined ? undefined : parseRotationInterval(input.RotationInterval),
        tags: input.Tags === undefined ? [] : parseTags(input.Tags),
      };
    }),
  ),
  async resolve(input, context) {
    // kms:tag/<TagKey> conditions see the tags the new key is to carry.
    context.authorize('*', undefined, undefined, { resourceTags: new Map(input.tags) });
  },
  async execute(input, _resolved, context) {
    const { keyring } = context.service;
    const record = await keyring.createKey({
      keyId: newKeyId(),
      description: input.Description,
      creator: keyring.scope.accountId,
      rotationInterval: input.EnableAutomaticRotation ? (input.rotationSeconds ?? DEFAULT_ROTATION_SECONDS) : undefined,
      tags: input.tags,
      external: input.Origin === 'EXTERNAL',
    });
    return { KeyMetadata: keyMetadata({ ...record, arn: keyring.arnOf(record.keyId) }) };
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
