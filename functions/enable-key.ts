import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { enabled } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** EnableKey: Disabled → Enabled (Enabled stays); PendingDeletion → 409 Rejected.StateModifiedFailed. */
export const operation = defineOperation({
  action: 'EnableKey',
  input: z.object({ KeyId: keyIdParameter }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key, context) {
    await context.service.keyring.updateKey(key.keyId, enabled);
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
