import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { page, pagingInput } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** ListKeyVersions: a key's versions, oldest first, paged. */
export const operation = defineOperation({
  action: 'ListKeyVersions',
  input: z.object({ KeyId: keyIdParameter, ...pagingInput }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const { items, ...paging } = page(await context.service.keyring.versionsOf(key), input);
    return {
      KeyVersions: { KeyVersion: items.map((v) => ({ KeyId: v.keyId, KeyVersionId: v.keyVersionId, CreationDate: v.creationDate })) },
      ...paging,
    };
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
