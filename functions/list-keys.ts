import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { page, pagingInput } from '../lib/operations/paging.js';

/** ListKeys: every key (any state) as `{KeyId, KeyArn}`, in key-id order, paged. Authorised on `*`. */
export const operation = defineOperation({
  action: 'ListKeys',
  input: z.object(pagingInput),
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context) {
    const { keyring } = context.service;
    const { items, ...paging } = page(await keyring.listKeyIds(), input);
    return { Keys: { Key: items.map((keyId) => ({ KeyId: keyId, KeyArn: keyring.arnOf(keyId) })) }, ...paging };
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
