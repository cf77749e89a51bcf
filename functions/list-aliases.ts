import { z } from 'zod';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasPage } from '../lib/operations/alias-list.js';
import { pagingInput } from '../lib/operations/paging.js';

/** ListAliases: every alias, by name, paged. Authorised on `*`. */
export const operation = defineOperation({
  action: 'ListAliases',
  input: z.object(pagingInput),
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context) {
    const { keyring } = context.service;
    return aliasPage(keyring, await keyring.listAliases(), input);
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
