import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { page } from '../lib/operations/paging.js';
import { pagingParameters } from '../lib/protocol/alibaba/schema.js';
import { paging } from '../lib/protocol/aws/fields.js';
import { awsKeyArn, nextMarker } from '../lib/protocol/aws/shapes.js';

type ListKeysOutput = { Keys: { Key: Array<{ KeyId: string; KeyArn: string }> }; TotalCount: number; PageNumber: number; PageSize: number };

/** ListKeys: every key (any state) as `{KeyId, KeyArn}`, in key-id order, paged. Authorised on `*`. */
export const action = defineAction({
  name: 'ListKeys',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object(pagingParameters) },
  aws: [
    {
      target: 'ListKeys',
      input: paging,
      output: (o: ListKeysOutput, c) => ({ Keys: o.Keys.Key.map((k) => ({ KeyId: k.KeyId, KeyArn: awsKeyArn(c, k.KeyId) })), ...nextMarker(o) }),
    },
  ],
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context): Promise<ListKeysOutput> {
    const { keyring } = context.service;
    const { items, ...paging } = page(await keyring.listKeyIds(), input);
    return { Keys: { Key: items.map((keyId) => ({ KeyId: keyId, KeyArn: keyring.arnOf(keyId) })) }, ...paging };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
