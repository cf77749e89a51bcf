import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { MissingParameterError } from '../lib/errors.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { secretNameParameter, versionIdParameter } from '../lib/protocol/alibaba/secrets.js';
import { MAX_LABELS_PER_SECRET_ALIBABA, MAX_LABELS_PER_VERSION, type StageLimits } from '../lib/secrets/stages.js';
import { arnAndName, secretId, secretOf, stageField, versionIdField, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';

/**
 * UpdateSecretVersionStage: adds a stage to a version (`MoveToVersion`), removes one
 * (`RemoveFromVersion`), or moves it (both). `ACSCurrent` and `ACSPrevious` only move; moving
 * `ACSCurrent` moves `ACSPrevious` to the version it left. When the stage is on another version,
 * `RemoveFromVersion` must name it. 400 InvalidParameter for a move the rules refuse; 404 for a
 * version that is not there.
 */
export const action = defineAction({
  name: 'UpdateSecretVersionStage',
  group: 'secrets-write',
  store: 'writes-state',
  alibaba: {
    params: z.pipe(
      z.object({
        SecretName: secretNameParameter,
        VersionStage: z.string().check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(256, { error: 'It must be at most 256 characters.' })),
        RemoveFromVersion: z.optional(versionIdParameter),
        MoveToVersion: z.optional(versionIdParameter),
      }),
      z.transform((p) => ({ ...p, limits: { labelsPerSecret: MAX_LABELS_PER_SECRET_ALIBABA } as StageLimits })),
    ),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'UpdateSecretVersionStage',
      input(body) {
        const RemoveFromVersion = versionIdField(body, 'RemoveFromVersionId');
        const MoveToVersion = versionIdField(body, 'MoveToVersionId');
        const SecretName = secretId(body);
        const VersionStage = stageField(body, 'VersionStage', true)!;
        if (RemoveFromVersion === undefined && MoveToVersion === undefined) throw new MissingParameterError('MoveToVersionId');
        return {
          SecretName,
          VersionStage,
          ...(RemoveFromVersion === undefined ? {} : { RemoveFromVersion }),
          ...(MoveToVersion === undefined ? {} : { MoveToVersion }),
          limits: { labelsPerVersion: MAX_LABELS_PER_VERSION } as StageLimits,
        };
      },
      output: (o: WithSecret<{ SecretName: string }>, c) => arnAndName(secretOf(o), c),
    },
  ],
  async resolve(input, context) {
    if (input.RemoveFromVersion === undefined && input.MoveToVersion === undefined) throw new MissingParameterError('MoveToVersion');
    return authorizedSecret(input.SecretName, context);
  },
  async execute(input, authorized, context): Promise<WithSecret<{ SecretName: string }>> {
    const secret = await context.service.secrets.moveStage(
      authorized,
      {
        stage: input.VersionStage,
        ...(input.MoveToVersion === undefined ? {} : { moveToVersion: input.MoveToVersion }),
        ...(input.RemoveFromVersion === undefined ? {} : { removeFromVersion: input.RemoveFromVersion }),
      },
      input.limits,
    );
    return withSecret({ SecretName: secret.name }, secret);
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
