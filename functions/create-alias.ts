import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { AliasAlreadyExistsError, KeyPendingDeletionError } from '../lib/errors.js';
import { EntryExistsError } from '../lib/keystore/key-store.js';
import { defineAction } from '../lib/action.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { aliasName, keyId } from '../lib/protocol/aws/fields.js';

/**
 * CreateAlias: binds a new alias to a key. Alias names are unique: of two concurrent calls for one
 * name, one wins and the other gets AliasAlreadyExists (the store's create is atomic).
 */
export const action = defineAction({
  name: 'CreateAlias',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ AliasName: aliasNameParameter, KeyId: keyIdParameter }) },
  aws: [{ target: 'CreateAlias', input: (body, scope) => ({ AliasName: aliasName(body), KeyId: keyId(body, scope, 'TargetKeyId') }), output: () => ({}) }],
  async resolve(input, context) {
    const key = await resolveAuthorizedKey(input.KeyId, context);
    if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
    return key;
  },
  async execute(input, key, context) {
    try {
      await context.service.keyring.createAlias(input.AliasName, key.keyId);
    } catch (err) {
      if (err instanceof EntryExistsError) throw new AliasAlreadyExistsError(input.AliasName);
      throw err;
    }
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
