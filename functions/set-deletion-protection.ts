import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { InvalidParameterError, MissingParameterError } from '../lib/errors.js';
import { defineAction } from '../lib/action.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { booleanParameter, keyIdParameter, storedTextParameter } from '../lib/protocol/alibaba/schema.js';

/** `acs:kms:<region>:<account>:key/<id>`: deletion protection is set on a key, named by its ARN. */
const keyArnParameter = keyIdParameter.check(
  z.refine((value) => /^acs:kms:[^:]+:[^:]+:key\/[^/]+$/.test(value), {
    error: 'It must be a key ARN, acs:kms:<region>:<account>:key/<id>.',
  }),
);

/**
 * SetDeletionProtection: while it is on, ScheduleKeyDeletion is refused (409
 * Rejected.StateModifiedFailed) and DescribeKey shows `DeletionProtection: Enabled` with its
 * description. The key is named by ProtectedResourceArn (its ARN) or, as newer SDKs send, KeyId;
 * both may be given if they name the same key. Turning it off clears the description. A key
 * pending deletion refuses it (409 Rejected.PendingDeletion). Authorised on the key's ARN.
 */
export const action = defineAction({
  name: 'SetDeletionProtection',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.object({
      ProtectedResourceArn: z.optional(keyArnParameter),
      KeyId: z.optional(keyIdParameter),
      EnableDeletionProtection: booleanParameter,
      DeletionProtectionDescription: z.optional(storedTextParameter(8_192)),
    }),
  },
  async resolve(input, context) {
    const named = input.ProtectedResourceArn ?? input.KeyId;
    if (named === undefined) throw new MissingParameterError('ProtectedResourceArn');
    const key = await resolveAuthorizedKey(named, context, { parameter: input.ProtectedResourceArn !== undefined ? 'ProtectedResourceArn' : 'KeyId' });
    if (input.ProtectedResourceArn !== undefined && input.KeyId !== undefined) {
      const other = await resolveAuthorizedKey(input.KeyId, context, { parameter: 'KeyId' });
      if (other.keyId !== key.keyId) throw new InvalidParameterError('KeyId', 'ProtectedResourceArn and KeyId name different keys.');
    }
    return notPendingDeletion(key);
  },
  async execute(input, key, context) {
    await context.service.keyring.updateKey(key.keyId, (record) => {
      const { deletionProtection: _previous, ...rest } = notPendingDeletion(record);
      return input.EnableDeletionProtection ? { ...rest, deletionProtection: { description: input.DeletionProtectionDescription ?? '' } } : rest;
    });
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
