import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter, integerParameter } from '../lib/protocol/alibaba/schema.js';
import { MAX_RECOVERY_DAYS, MIN_RECOVERY_DAYS } from '../lib/secrets/secret-store.js';
import { bool, integer } from '../lib/protocol/aws/json.js';
import { arnAndName, secretId, secretOf, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';
import { epochSeconds } from '../lib/protocol/aws/shapes.js';

type DeleteSecretOutput = WithSecret<{ SecretName: string; PlannedDeleteTime: string }>;

/**
 * DeleteSecret: scheduled after `RecoveryWindowInDays` (7–30, default 30), restorable until then
 * (RestoreSecret), or destroyed now with `ForceDeleteWithoutRecovery=true` (not with a window:
 * 400 InvalidParameter). A secret already pending is 409 Rejected.ResourceInDeleteWindow unless
 * forced. The scheduled deletion job destroys it when its time comes.
 */
export const action = defineAction({
  name: 'DeleteSecret',
  group: 'secrets-lifecycle',
  store: 'writes-state',
  alibaba: {
    params: z.object({
      SecretName: secretNameParameter,
      ForceDeleteWithoutRecovery: z.optional(booleanParameter),
      RecoveryWindowInDays: z.optional(integerParameter(MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS)),
    }),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'DeleteSecret',
      input(body) {
        const RecoveryWindowInDays = integer(body, 'RecoveryWindowInDays', MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS);
        const ForceDeleteWithoutRecovery = bool(body, 'ForceDeleteWithoutRecovery');
        return {
          SecretName: secretId(body),
          ...(RecoveryWindowInDays === undefined ? {} : { RecoveryWindowInDays }),
          ...(ForceDeleteWithoutRecovery === undefined ? {} : { ForceDeleteWithoutRecovery }),
        };
      },
      output: (o: DeleteSecretOutput, c) => ({ ...arnAndName(secretOf(o), c), DeletionDate: epochSeconds(o.PlannedDeleteTime) }),
    },
  ],
  async resolve(input, context) {
    return authorizedSecret(input.SecretName, context);
  },
  async execute(input, authorized, context): Promise<DeleteSecretOutput> {
    const { secret, plannedDeleteAt } = await context.service.secrets.scheduleDeletion(authorized, {
      ...(input.RecoveryWindowInDays === undefined ? {} : { windowDays: input.RecoveryWindowInDays }),
      ...(input.ForceDeleteWithoutRecovery ? { force: true } : {}),
    });
    return withSecret({ SecretName: secret.name, PlannedDeleteTime: plannedDeleteAt }, secret);
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
