import { randomBytes } from 'node:crypto';
import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { InvalidParameterError } from '../lib/errors.js';
import { DEFAULT_ROTATION_SECONDS, parseRotationInterval } from '../lib/keyring/rotation.js';
import { defineAction } from '../lib/action.js';
import { keyMetadata, type KeyMetadataView } from '../lib/operations/key-metadata.js';
import { parseTags, tagsOfList } from '../lib/operations/tags.js';
import { booleanParameter, storedTextParameter } from '../lib/protocol/alibaba/schema.js';
import { bool, list, refuse, storedText, text } from '../lib/protocol/aws/fields.js';
import { awsKeyMetadata } from '../lib/protocol/aws/shapes.js';

type CreateKeyInput = {
  Description: string | undefined;
  /** Origin EXTERNAL: the key waits for imported material. */
  external: boolean;
  /** Automatic rotation's interval in seconds; none: no automatic rotation. */
  rotationInterval: number | undefined;
  tags: Array<[string, string]>;
};
type CreateKeyOutput = { KeyMetadata: KeyMetadataView };

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
export const action = defineAction({
  name: 'CreateKey',
  group: 'write',
  store: 'creates-material',
  alibaba: {
    params: z.pipe(
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
      z.transform((params): CreateKeyInput => {
        // Imported material is the caller's: it is never rotated here (a new key is the rotation).
        if (params.Origin === 'EXTERNAL' && params.EnableAutomaticRotation) {
          throw new InvalidParameterError('EnableAutomaticRotation', 'A key with Origin EXTERNAL cannot rotate automatically.');
        }
        // Validated even when rotation stays off, so a bad value is never silently accepted.
        const seconds = params.RotationInterval === undefined ? undefined : parseRotationInterval(params.RotationInterval);
        return {
          Description: params.Description,
          external: params.Origin === 'EXTERNAL',
          rotationInterval: params.EnableAutomaticRotation ? (seconds ?? DEFAULT_ROTATION_SECONDS) : undefined,
          tags: params.Tags === undefined ? [] : parseTags(params.Tags),
        };
      }),
    ),
  },
  aws: [
    {
      target: 'CreateKey',
      input(body): CreateKeyInput {
        for (const name of ['KeySpec', 'CustomerMasterKeySpec'] as const) {
          const spec = text(body, name);
          if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') throw new InvalidParameterError(name, 'Only SYMMETRIC_DEFAULT keys are supported.');
        }
        const usage = text(body, 'KeyUsage');
        if (usage !== undefined && usage !== 'ENCRYPT_DECRYPT') throw new InvalidParameterError('KeyUsage', 'Only ENCRYPT_DECRYPT is supported.');
        const origin = text(body, 'Origin');
        if (origin !== undefined && origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new InvalidParameterError('Origin', 'It must be AWS_KMS or EXTERNAL.');
        if (bool(body, 'MultiRegion')) throw new InvalidParameterError('MultiRegion', 'Multi-Region keys are not supported.');
        refuse(body, ['CustomKeyStoreId', 'XksKeyId']);
        if (text(body, 'Policy') !== undefined)
          throw new InvalidParameterError('Policy', 'Key policies are not supported: access is governed by the policies of the access keys.');
        const description = storedText(body, 'Description', 8192);
        const tags = list(body, 'Tags', false, '{"TagKey", "TagValue"}');
        return { Description: description, external: origin === 'EXTERNAL', rotationInterval: undefined, tags: tags === undefined ? [] : tagsOfList(tags) };
      },
      output: (o: CreateKeyOutput, c) => ({ KeyMetadata: awsKeyMetadata(o.KeyMetadata, c) }),
    },
  ],
  async resolve(input, context) {
    // kms:tag/<TagKey> conditions see the tags the new key is to carry.
    context.authorize('*', undefined, undefined, { resourceTags: new Map(input.tags) });
  },
  async execute(input, _resolved, context): Promise<CreateKeyOutput> {
    const { keyring } = context.service;
    const record = await keyring.createKey({
      keyId: newKeyId(),
      description: input.Description,
      creator: keyring.scope.accountId,
      rotationInterval: input.rotationInterval,
      tags: input.tags,
      external: input.external,
    });
    return { KeyMetadata: keyMetadata({ ...record, arn: keyring.arnOf(record.keyId) }) };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
