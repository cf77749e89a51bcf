import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter, storedTextParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * UpdateKeyDescription: replaces the key's description (an empty one clears it; up to 8,192
 * characters, as CreateKey). A key pending deletion refuses it (409 Rejected.PendingDeletion).
 */
export const action = defineAction({
  name: 'UpdateKeyDescription',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ KeyId: keyIdParameter, Description: storedTextParameter(8_192) }) },
  resolve: async (input, context) => notPendingDeletion(await resolveAuthorizedKey(input.KeyId, context)),
  async execute(input, key, context) {
    await context.service.keyring.updateKey(key.keyId, (record) => {
      return { ...notPendingDeletion(record), description: input.Description };
    });
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
