import { z } from 'zod';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasPage } from '../lib/operations/alias-list.js';
import { pagingInput } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/rpc/schema.js';

/** ListAliasesByKeyId: the aliases of one key, by name, paged. */
export const operation = defineOperation({
  action: 'ListAliasesByKeyId',
  input: z.object({ KeyId: keyIdParameter, ...pagingInput }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const { keyring } = context.service;
    return aliasPage(keyring, (await keyring.listAliases()).filter((a) => a.keyId === key.keyId), input);
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
