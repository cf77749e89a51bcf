import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { disabled } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';

/** DisableKey: Enabled → Disabled (Disabled stays); crypto then answers 409 Rejected.Disabled, Decrypt too; PendingDeletion → 409 Rejected.StateModifiedFailed. */
export const action = defineAction({
  name: 'DisableKey',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ KeyId: keyIdParameter }) },
  aws: [{ target: 'DisableKey', input: (body, scope) => ({ KeyId: keyId(body, scope) }), output: () => ({}) }],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key, context) {
    await context.service.keyring.updateKey(key.keyId, disabled);
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
