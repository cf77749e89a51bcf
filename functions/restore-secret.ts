import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { arnAndName, secretId, secretOf, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';

/** RestoreSecret: cancels a scheduled deletion within its window; a secret not pending deletion is 409 Rejected.ResourceInUse. */
export const action = defineAction({
  name: 'RestoreSecret',
  group: 'secrets-lifecycle',
  store: 'writes-state',
  alibaba: { params: z.object({ SecretName: secretNameParameter }) },
  aws: [
    {
      service: 'secretsmanager',
      target: 'RestoreSecret',
      input: (body) => ({ SecretName: secretId(body) }),
      output: (o: WithSecret<{ SecretName: string }>, c) => arnAndName(secretOf(o), c),
    },
  ],
  async resolve(input, context) {
    return authorizedSecret(input.SecretName, context);
  },
  async execute(_input, authorized, context): Promise<WithSecret<{ SecretName: string }>> {
    const secret = await context.service.secrets.restore(authorized);
    return withSecret({ SecretName: secret.name }, secret);
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
