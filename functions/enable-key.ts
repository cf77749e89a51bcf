import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { enabled } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';

/** EnableKey: Disabled → Enabled (Enabled stays); PendingDeletion → 409 Rejected.StateModifiedFailed. */
export const action = defineAction({
  name: 'EnableKey',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ KeyId: keyIdParameter }) },
  aws: [{ target: 'EnableKey', input: (body, scope) => ({ KeyId: keyId(body, scope) }), output: () => ({}) }],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key, context) {
    await context.service.keyring.updateKey(key.keyId, enabled);
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
