import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { keyMetadata } from '../lib/operations/key-metadata.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** DescribeKey: the full KeyMetadata of a key named by id, alias or ARN, in any state. */
export const operation = defineOperation({
  action: 'DescribeKey',
  input: z.object({ KeyId: keyIdParameter }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key) {
    return { KeyMetadata: keyMetadata(key) };
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
