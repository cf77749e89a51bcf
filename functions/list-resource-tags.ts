import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** ListResourceTags: a key's tags, by TagKey, as `Tags.Tag[]{KeyId, TagKey, TagValue}` (an empty list when none), in any key state. */
export const operation = defineOperation({
  action: 'ListResourceTags',
  input: z.object({ KeyId: keyIdParameter }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key) {
    return { Tags: { Tag: (key.tags ?? []).map(([TagKey, TagValue]) => ({ KeyId: key.keyId, TagKey, TagValue })) } };
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
