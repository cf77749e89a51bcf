import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { aliasNameParameter } from '../lib/operations/alias-name.js';
import { resolveAuthorizedAlias } from '../lib/operations/resolve-key.js';
import { aliasName } from '../lib/protocol/aws/fields.js';

/** DeleteAlias: removes an alias; the key is untouched. Authorised on the key the alias names. */
export const action = defineAction({
  name: 'DeleteAlias',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ AliasName: aliasNameParameter }) },
  aws: [{ target: 'DeleteAlias', input: (body) => ({ AliasName: aliasName(body) }), output: () => ({}) }],
  async resolve(input, context) {
    // The delete happens only if the alias still names the key the caller was authorised on.
    return resolveAuthorizedAlias(input.AliasName, context);
  },
  async execute(input, alias, context) {
    await context.service.keyring.deleteAlias(input.AliasName, alias.keyId);
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
