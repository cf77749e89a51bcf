import { z } from 'zod';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { AliasNotFoundError, KeyPendingDeletionError } from '../lib/errors.js';
import { defineOperation } from '../lib/operation.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/rpc/schema.js';

/** UpdateAlias: rebinds an existing alias to another key. The caller needs kms:UpdateAlias on both keys. */
export const operation = defineOperation({
  action: 'UpdateAlias',
  input: z.object({ AliasName: aliasNameParameter, KeyId: keyIdParameter }),
  async resolve(input, context) {
    const { keyring } = context.service;
    // Read past the cache: the caller is authorised on the key the alias names now, and the update
    // happens only if it still names that key.
    const alias = await keyring.readAlias(input.AliasName);
    if (!alias) throw new AliasNotFoundError(input.AliasName);
    context.authorize(keyring.arnOf(alias.keyId));
    const key = await resolveAuthorizedKey(input.KeyId, context);
    if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
    return { key, previousKeyId: alias.keyId };
  },
  async execute(input, { key, previousKeyId }, context) {
    await context.service.keyring.updateAlias(input.AliasName, key.keyId, previousKeyId);
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
