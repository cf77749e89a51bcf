import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { defineAction } from '../lib/action.js';
import { deletionCancelled } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

type CancelKeyDeletionInput = {
  KeyId: string;
  /** The state the key returns to: each API documents its own. */
  restoredState: 'Enabled' | 'Disabled';
};

/**
 * CancelKeyDeletion: PendingDeletion → Enabled through the Alibaba API, Disabled through the AWS
 * API, as each documents (PendingImport for a key without its imported material); other states →
 * 409 Rejected.StateModifiedFailed.
 */
export const action = defineAction({
  name: 'CancelKeyDeletion',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.pipe(
      z.object({ KeyId: keyIdParameter }),
      z.transform(({ KeyId }): CancelKeyDeletionInput => ({ KeyId, restoredState: 'Enabled' })),
    ),
  },
  aws: [
    {
      target: 'CancelKeyDeletion',
      input: (body, scope): CancelKeyDeletionInput => ({ KeyId: keyId(body, scope), restoredState: 'Disabled' }),
      output: (_o, c) => ({ KeyId: awsKeyArn(c, c.authorizedKeyId!) }),
    },
  ],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(input, key, context) {
    const now = isoSeconds(context.service.now());
    await context.service.keyring.updateKey(key.keyId, (record) => deletionCancelled(record, now, input.restoredState));
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
