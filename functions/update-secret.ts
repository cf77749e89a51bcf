import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { MAX_DESCRIPTION } from '../lib/secrets/secret-store.js';

/** UpdateSecret: a secret's `Description` (at most 2,048 characters); 409 Rejected.ResourceInDeleteWindow while pending deletion. */
export const action = defineAction({
  name: 'UpdateSecret',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.object({
      SecretName: secretNameParameter,
      Description: z.optional(
        z.string().check(z.maxLength(MAX_DESCRIPTION, { error: `It must be at most ${MAX_DESCRIPTION.toLocaleString('en-US')} characters.` })),
      ),
    }),
  },
  async resolve(input, context) {
    await authorizedSecret(input.SecretName, context);
  },
  async execute(input, _resolved, context): Promise<{ SecretName: string }> {
    const { secrets } = context.service;
    // No Description: nothing to change, but the secret must be there and not pending deletion.
    const secret = await secrets.updateDescription(input.SecretName, input.Description ?? (await secrets.describe(input.SecretName)).description);
    return { SecretName: secret.name };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
