import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret, authorizeSecretKey } from '../lib/operations/secrets.js';
import { alibabaStages, secretDataOf, secretNameParameter, versionIdParameter } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter } from '../lib/protocol/alibaba/schema.js';
import { arnAndName, awsStages, secretId, secretOf, stageField, versionIdField, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';
import { epochSeconds } from '../lib/protocol/aws/shapes.js';

type GetSecretValueOutput = WithSecret<{
  SecretName: string;
  SecretType: 'Generic';
  VersionId: string;
  CreateTime: string;
  SecretData: string;
  SecretDataType: 'text' | 'binary';
  VersionStages: { VersionStage: string[] };
}>;

/**
 * GetSecretValue: a version's value, named by `VersionId` or `VersionStage` (default `ACSCurrent`;
 * both given: they must name the same version). Binary values are answered as their Base64. With a
 * user key the caller also needs `kms:Decrypt` on it; a key not usable now (Disabled, pending
 * deletion) fails with its key-state error (409). 404 Forbidden.ResourceNotFound for a secret,
 * version or stage that is not there; 409 Rejected.ResourceInDeleteWindow while pending deletion.
 */
export const action = defineAction({
  name: 'GetSecretValue',
  group: 'secrets-read',
  store: 'reads',
  alibaba: {
    params: z.object({
      SecretName: secretNameParameter,
      VersionStage: z.optional(
        z.string().check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(256, { error: 'It must be at most 256 characters.' })),
      ),
      VersionId: z.optional(versionIdParameter),
      FetchExtendedConfig: z.optional(booleanParameter),
    }),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'GetSecretValue',
      keyStateError: 'DecryptionFailure',
      input(body) {
        const VersionId = versionIdField(body, 'VersionId');
        const VersionStage = stageField(body, 'VersionStage');
        return { SecretName: secretId(body), ...(VersionId === undefined ? {} : { VersionId }), ...(VersionStage === undefined ? {} : { VersionStage }) };
      },
      output: (o: GetSecretValueOutput, c) => ({
        ...arnAndName(secretOf(o), c),
        VersionId: o.VersionId,
        ...(o.SecretDataType === 'binary' ? { SecretBinary: o.SecretData } : { SecretString: o.SecretData }),
        VersionStages: awsStages(o.VersionStages.VersionStage),
        CreatedDate: epochSeconds(o.CreateTime),
      }),
    },
  ],
  async resolve(input, context) {
    const secret = await authorizedSecret(input.SecretName, context);
    authorizeSecretKey(secret, context, 'kms:Decrypt');
    return secret;
  },
  async execute(input, authorized, context): Promise<GetSecretValueOutput> {
    // The secret authorised, by its name and suffix: never another the reference could name by now.
    const { secret, version, value } = await context.service.secrets.getValue(authorized, {
      ...(input.VersionId === undefined ? {} : { versionId: input.VersionId }),
      ...(input.VersionStage === undefined ? {} : { stage: input.VersionStage }),
    });
    try {
      return withSecret(
        {
          SecretName: secret.name,
          SecretType: 'Generic' as const,
          VersionId: version.versionId,
          CreateTime: version.createdAt,
          SecretData: secretDataOf(version, value),
          SecretDataType: version.type,
          VersionStages: alibabaStages(version.labels),
        },
        secret,
      );
    } finally {
      value.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
