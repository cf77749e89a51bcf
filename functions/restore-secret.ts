import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { secretNameParameter } from '../lib/protocol/alibaba/secrets.js';

/** RestoreSecret: cancels a scheduled deletion within its window; a secret not pending deletion is 409 Rejected.ResourceInUse. */
export const action = defineAction({
  name: 'RestoreSecret',
  group: 'write',
  store: 'writes-state',
  alibaba: { params: z.object({ SecretName: secretNameParameter }) },
  async resolve(input, context) {
    await authorizedSecret(input.SecretName, context);
  },
  async execute(input, _resolved, context): Promise<{ SecretName: string }> {
    const secret = await context.service.secrets.restore(input.SecretName);
    return { SecretName: secret.name };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
