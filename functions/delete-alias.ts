import { z } from 'zod';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { AliasNotFoundError } from '../lib/errors.js';
import { defineOperation } from '../lib/operation.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';

/** DeleteAlias: removes an alias; the key is untouched. Authorised on the key the alias names. */
export const operation = defineOperation({
  action: 'DeleteAlias',
  input: z.object({ AliasName: aliasNameParameter }),
  async resolve(input, context) {
    const { keyring } = context.service;
    // Read past the cache: the caller is authorised on the key the alias names now, and the delete
    // happens only if it still names that key.
    const alias = await keyring.readAlias(input.AliasName);
    if (!alias) throw new AliasNotFoundError(input.AliasName);
    context.authorize(keyring.arnOf(alias.keyId));
    return alias;
  },
  async execute(input, alias, context) {
    await context.service.keyring.deleteAlias(input.AliasName, alias.keyId);
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
