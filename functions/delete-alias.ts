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
    const alias = await keyring.getAlias(input.AliasName);
    if (!alias) throw new AliasNotFoundError(input.AliasName);
    context.authorize(keyring.arnOf(alias.keyId));
  },
  async execute(input, _resolved, context) {
    await context.service.keyring.deleteAlias(input.AliasName);
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
