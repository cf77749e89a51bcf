import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { page } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';

/** ListKeyVersions: a key's versions, oldest first, paged. */
export const action = defineAction({
  name: 'ListKeyVersions',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({ KeyId: keyIdParameter, ...pagingParameters }) },
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const { items, ...paging } = page(await context.service.keyring.versionsOf(key), input);
    return {
      KeyVersions: { KeyVersion: items.map((v) => ({ KeyId: v.keyId, KeyVersionId: v.keyVersionId, CreationDate: v.creationDate })) },
      ...paging,
    };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
