import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { type AliasPage, aliasPage } from '../lib/operations/alias-list.js';
import { pageBounds } from '../lib/operations/paging.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';
import { field, keyId, paging } from '../lib/protocol/aws/fields.js';
import { awsAliasList } from '../lib/protocol/aws/shapes.js';

/** ListAliasesByKeyId: the aliases of one key, by name, paged; reads only the page's aliases. AWS's ListAliases with a KeyId. */
export const action = defineAction({
  name: 'ListAliasesByKeyId',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({ KeyId: keyIdParameter, ...pagingParameters }) },
  aws: [
    {
      target: 'ListAliases',
      when: (body) => field(body, 'KeyId') !== undefined && field(body, 'KeyId') !== null,
      input: (body, scope) => ({ ...paging(body), KeyId: keyId(body, scope) }),
      output: (o: AliasPage, c) => awsAliasList(o, c),
    },
  ],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context): Promise<AliasPage> {
    const { keyring } = context.service;
    const { offset, limit, PageNumber, PageSize } = pageBounds(input);
    const { aliases, total } = await keyring.aliasPageOfKey(key.keyId, offset, limit);
    return aliasPage(keyring, aliases, { TotalCount: total, PageNumber, PageSize });
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
