import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { defineAction } from '../lib/action.js';
import { pendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { integerParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { integer, keyId } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/**
 * ScheduleKeyDeletion: the key becomes PendingDeletion (every cryptographic call, Decrypt too, is
 * refused) and its material is destroyed by the scheduled deletion after `PendingWindowInDays`
 * (7–366). CancelKeyDeletion undoes it until then.
 */
export const action = defineAction({
  name: 'ScheduleKeyDeletion',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ KeyId: keyIdParameter, PendingWindowInDays: integerParameter(7, 366) }) },
  aws: [
    {
      target: 'ScheduleKeyDeletion',
      // AWS's window is 7–30 days, 30 when not given.
      input: (body, scope) => ({ KeyId: keyId(body, scope), PendingWindowInDays: integer(body, 'PendingWindowInDays', 7, 30) ?? 30 }),
      output(_o, c) {
        const days = integer(c.body, 'PendingWindowInDays', 7, 30) ?? 30;
        return {
          KeyId: awsKeyArn(c, c.authorizedKeyId!),
          DeletionDate: Math.floor(c.now / 1000) + days * 86_400,
          KeyState: 'PendingDeletion',
          PendingWindowInDays: days,
        };
      },
    },
  ],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const now = isoSeconds(context.service.now());
    await context.service.keyring.updateKey(key.keyId, (record) => pendingDeletion(record, now, input.PendingWindowInDays));
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
