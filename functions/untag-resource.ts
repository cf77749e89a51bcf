import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { parseTagKeys, taggedKeyId, tagResourceParameters, withoutTags } from '../lib/operations/tags.js';

/**
 * UntagResource: removes the tags named in `TagKeys` (a JSON list, or keys separated by commas)
 * from a key; keys it does not carry are ignored. A key pending deletion refuses it.
 */
export const operation = defineOperation({
  action: 'UntagResource',
  input: z.pipe(
    z.object({ ...tagResourceParameters, TagKeys: z.string().check(z.maxLength(8_192, { error: 'It must be at most 8,192 characters.' })) }),
    z.transform((input) => ({ ...input, keys: parseTagKeys(input.TagKeys) })),
  ),
  resolve: async (input, context) => notPendingDeletion(await resolveAuthorizedKey(taggedKeyId(input), context)),
  async execute(input, key, context) {
    await context.service.keyring.updateKey(key.keyId, (record) => withoutTags(notPendingDeletion(record), input.keys));
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
