import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasPage } from '../lib/operations/alias-list.js';
import { pageBounds, pagingInput } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** ListAliasesByKeyId: the aliases of one key, by name, paged; reads only the page's aliases. */
export const operation = defineOperation({
  action: 'ListAliasesByKeyId',
  input: z.object({ KeyId: keyIdParameter, ...pagingInput }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const { keyring } = context.service;
    const { offset, limit, PageNumber, PageSize } = pageBounds(input);
    const { aliases, total } = await keyring.aliasPageOfKey(key.keyId, offset, limit);
    return aliasPage(keyring, aliases, { TotalCount: total, PageNumber, PageSize });
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
