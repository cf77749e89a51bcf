import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineOperation } from '../lib/operation.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';
import { resolveAuthorizedAlias } from '../lib/operations/resolve-key.js';

/** DeleteAlias: removes an alias; the key is untouched. Authorised on the key the alias names. */
export const operation = defineOperation({
  action: 'DeleteAlias',
  input: z.object({ AliasName: aliasNameParameter }),
  async resolve(input, context) {
    // The delete happens only if the alias still names the key the caller was authorised on.
    return resolveAuthorizedAlias(input.AliasName, context);
  },
  async execute(input, alias, context) {
    await context.service.keyring.deleteAlias(input.AliasName, alias.keyId);
    return {};
  },
});

export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
