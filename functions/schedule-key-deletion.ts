import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { isoSeconds } from '../lib/time.js';
import { defineOperation } from '../lib/operation.js';
import { pendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { integerParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * ScheduleKeyDeletion: the key becomes PendingDeletion (every cryptographic call, Decrypt too, is
 * refused) and its material is destroyed by the scheduled deletion after `PendingWindowInDays`
 * (7–366). CancelKeyDeletion undoes it until then.
 */
export const operation = defineOperation({
  action: 'ScheduleKeyDeletion',
  input: z.object({ KeyId: keyIdParameter, PendingWindowInDays: integerParameter(7, 366) }),
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const now = isoSeconds(context.service.now());
    await context.service.keyring.updateKey(key.keyId, (record) => pendingDeletion(record, now, input.PendingWindowInDays));
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
