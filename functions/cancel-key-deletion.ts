import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { isoSeconds } from '../lib/time.js';
import { defineOperation } from '../lib/operation.js';
import { deletionCancelled } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * CancelKeyDeletion: PendingDeletion → Enabled through the Alibaba API, Disabled through the AWS
 * API, as each documents (PendingImport for a key without its imported material); other states →
 * 409 Rejected.StateModifiedFailed.
 */
export const operation = defineOperation({
  action: 'CancelKeyDeletion',
  input: z.object({ KeyId: keyIdParameter }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key, context) {
    const now = isoSeconds(context.service.now());
    await context.service.keyring.updateKey(key.keyId, (record) => deletionCancelled(record, now, context.protocol === 'aws' ? 'Disabled' : 'Enabled'));
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
