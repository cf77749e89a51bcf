import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { type AliasPage, aliasPage } from '../lib/operations/alias-list.js';
import { pageBounds } from '../lib/operations/paging.js';
import { pagingParameters } from '../lib/protocol/alibaba/schema.js';
import { field, paging } from '../lib/protocol/aws/fields.js';
import { awsAliasList } from '../lib/protocol/aws/shapes.js';
import { action as listAliasesByKeyId } from './list-aliases-by-key-id.js';

/** ListAliases: every alias, by name, paged; reads only the page's aliases. Authorised on `*`. AWS's ListAliases without a KeyId. */
export const action = defineAction({
  name: 'ListAliases',
  group: 'read',
  store: 'reads',
  // AWS's ListAliases with a KeyId: served here too, without a forward.
  alsoServes: [listAliasesByKeyId],
  alibaba: { params: z.object(pagingParameters) },
  aws: [
    {
      target: 'ListAliases',
      // With a KeyId, AWS lists that key's aliases: ListAliasesByKeyId's.
      when: (body) => field(body, 'KeyId') === undefined || field(body, 'KeyId') === null,
      input: paging,
      output: (o: AliasPage, c) => awsAliasList(o, c),
    },
  ],
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context): Promise<AliasPage> {
    const { keyring } = context.service;
    const { offset, limit, PageNumber, PageSize } = pageBounds(input);
    const { aliases, total } = await keyring.aliasPage(offset, limit);
    return aliasPage(keyring, aliases, { TotalCount: total, PageNumber, PageSize });
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
