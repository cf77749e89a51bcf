import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasPage } from '../lib/operations/alias-list.js';
import { pageBounds, pagingInput } from '../lib/operations/paging.js';

/** ListAliases: every alias, by name, paged; reads only the page's aliases. Authorised on `*`. */
export const operation = defineOperation({
  action: 'ListAliases',
  input: z.object(pagingInput),
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context) {
    const { keyring } = context.service;
    const { offset, limit, PageNumber, PageSize } = pageBounds(input);
    const { aliases, total } = await keyring.aliasPage(offset, limit);
    return aliasPage(keyring, aliases, { TotalCount: total, PageNumber, PageSize });
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
