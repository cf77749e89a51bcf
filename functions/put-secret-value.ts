import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { jsonTextParameter } from '../lib/protocol/alibaba/schema.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret, authorizeSecretKey } from '../lib/operations/secrets.js';
import {
  alibabaStages,
  parseVersionStages,
  secretDataParameter,
  secretDataTypeParameter,
  secretNameParameter,
  secretValueOf,
  versionIdParameter,
} from '../lib/protocol/alibaba/secrets.js';
import {
  arnAndName,
  awsStages,
  clientRequestToken,
  requiredSecretValue,
  secretId,
  secretOf,
  stagesField,
  type WithSecret,
  withSecret,
} from '../lib/protocol/aws/secrets.js';
import { MAX_LABELS_PER_SECRET_ALIBABA, MAX_LABELS_PER_VERSION, type StageLimits } from '../lib/secrets/stages.js';

type PutSecretValueOutput = WithSecret<{ SecretName: string; VersionId: string; VersionStages: { VersionStage: string[] } }>;

/**
 * PutSecretValue: a new version. Without `VersionStages` it becomes `ACSCurrent` and the former
 * current version `ACSPrevious`; with them (a JSON list, or `{"VersionStage": [...]}`) it gets
 * those labels. Repeating a `VersionId` with the same value and type succeeds with no change; with
 * another value it is 409 Rejected.ResourceExist. With a user key the caller also needs
 * `kms:GenerateDataKey` on it. At most 8 labels per secret (400 Rejected.LimitExceeded beyond).
 */
export const action = defineAction({
  name: 'PutSecretValue',
  group: 'secrets-write',
  store: 'creates-material',
  alibaba: {
    params: z.pipe(
      z.object({
        SecretName: secretNameParameter,
        VersionId: versionIdParameter,
        SecretData: secretDataParameter,
        SecretDataType: secretDataTypeParameter,
        VersionStages: z.optional(jsonTextParameter),
      }),
      z.transform((p) => ({
        SecretName: p.SecretName,
        VersionId: p.VersionId,
        value: secretValueOf(p.SecretData, p.SecretDataType),
        stages: p.VersionStages === undefined ? undefined : parseVersionStages(p.VersionStages),
        limits: { labelsPerSecret: MAX_LABELS_PER_SECRET_ALIBABA } as StageLimits,
      })),
    ),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'PutSecretValue',
      input(body) {
        const stages = stagesField(body, 'VersionStages', MAX_LABELS_PER_VERSION);
        // RotationToken is for AWS's Lambda rotation, which is not served: it changes nothing here.
        return {
          SecretName: secretId(body),
          VersionId: clientRequestToken(body),
          value: requiredSecretValue(body),
          stages,
          limits: { labelsPerVersion: MAX_LABELS_PER_VERSION } as StageLimits,
        };
      },
      output: (o: PutSecretValueOutput, c) => ({
        ...arnAndName(secretOf(o), c),
        VersionId: o.VersionId,
        VersionStages: awsStages(o.VersionStages.VersionStage),
      }),
    },
  ],
  async resolve(input, context) {
    const secret = await authorizedSecret(input.SecretName, context);
    authorizeSecretKey(secret, context, 'kms:GenerateDataKey');
    return secret;
  },
  async execute(input, authorized, context): Promise<PutSecretValueOutput> {
    try {
      const { secret, version } = await context.service.secrets.putValue(authorized, {
        versionId: input.VersionId,
        value: input.value,
        ...(input.stages === undefined ? {} : { stages: input.stages }),
        limits: input.limits,
      });
      return withSecret({ SecretName: secret.name, VersionId: version.versionId, VersionStages: alibabaStages(version.labels) }, secret);
    } finally {
      input.value.bytes.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
