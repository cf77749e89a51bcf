import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { KeyPendingDeletionError } from '../lib/errors.js';
import { defineAction } from '../lib/action.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';
import { resolveAuthorizedAlias, resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { aliasName, keyId } from '../lib/protocol/aws/fields.js';

/** UpdateAlias: rebinds an existing alias to another key. The caller needs kms:UpdateAlias on both keys. */
export const action = defineAction({
  name: 'UpdateAlias',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ AliasName: aliasNameParameter, KeyId: keyIdParameter }) },
  aws: [{ target: 'UpdateAlias', input: (body, scope) => ({ AliasName: aliasName(body), KeyId: keyId(body, scope, 'TargetKeyId') }), output: () => ({}) }],
  async resolve(input, context) {
    // The update happens only if the alias still names the key the caller was authorised on.
    const alias = await resolveAuthorizedAlias(input.AliasName, context);
    const key = await resolveAuthorizedKey(input.KeyId, context);
    if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
    return { key, previousKeyId: alias.keyId };
  },
  async execute(input, { key, previousKeyId }, context) {
    await context.service.keyring.updateAlias(input.AliasName, key.keyId, previousKeyId);
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
