import { z } from 'zod';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasPage } from '../lib/operations/alias-list.js';
import { page, pagingInput } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/rpc/schema.js';

/** ListAliasesByKeyId: the aliases of one key, by name, paged; reads that key's aliases only. */
export const operation = defineOperation({
  action: 'ListAliasesByKeyId',
  input: z.object({ KeyId: keyIdParameter, ...pagingInput }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const { keyring } = context.service;
    const { items, ...paging } = page(await keyring.aliasesOfKey(key.keyId), input);
    return aliasPage(keyring, items, paging);
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
