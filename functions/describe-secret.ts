import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { alibabaTags, secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter } from '../lib/protocol/alibaba/schema.js';
import { CURRENT } from '../lib/secrets/stages.js';
import { awsSecretMetadata, secretId, secretOf, versionIdsToStages, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';

type DescribeSecretOutput = WithSecret<{
  Arn: string;
  SecretName: string;
  SecretType: 'Generic';
  EncryptionKeyId: string;
  Description: string;
  CreateTime: string;
  UpdateTime: string;
  PlannedDeleteTime?: string;
  AutomaticRotation: 'Disabled';
  Tags?: { Tag: Array<{ TagKey: string; TagValue: string }> };
}>;

/**
 * DescribeSecret: a secret's metadata, never a value; served while it is pending deletion
 * (`PlannedDeleteTime`). `EncryptionKeyId` is the key its versions are sealed under from now on
 * (the default secrets key's id when none was given). `Tags.Tag` only with `FetchTags=true`.
 */
export const action = defineAction({
  name: 'DescribeSecret',
  group: 'secrets-read',
  store: 'reads',
  alibaba: { params: z.object({ SecretName: secretNameParameter, FetchTags: z.optional(booleanParameter) }) },
  aws: [
    {
      service: 'secretsmanager',
      target: 'DescribeSecret',
      input: (body) => ({ SecretName: secretId(body), FetchTags: false }),
      output: (o: DescribeSecretOutput, c) => {
        const secret = secretOf(o);
        return { ...awsSecretMetadata(secret, c), VersionIdsToStages: versionIdsToStages(secret) };
      },
    },
  ],
  async resolve(input, context) {
    return authorizedSecret(input.SecretName, context);
  },
  async execute(input, authorized, context): Promise<DescribeSecretOutput> {
    const { secrets } = context.service;
    // The secret as resolve read it: no second read.
    const secret = authorized;
    return withSecret(
      {
        Arn: secret.arn,
        SecretName: secret.name,
        SecretType: 'Generic' as const,
        // No user key: the key its current version is sealed under (the default secrets key), never a key made now.
        EncryptionKeyId: secret.kmsKeyId ?? secret.versions.find((v) => v.labels.includes(CURRENT))?.keyId ?? (await secrets.defaultKeyId()),
        Description: secret.description,
        CreateTime: secret.createdAt,
        UpdateTime: secret.updatedAt,
        ...(secret.plannedDeleteAt === undefined ? {} : { PlannedDeleteTime: secret.plannedDeleteAt }),
        AutomaticRotation: 'Disabled' as const,
        ...(input.FetchTags ? { Tags: alibabaTags(secret.tags) } : {}),
      },
      secret,
    );
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
