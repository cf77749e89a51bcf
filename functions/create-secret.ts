import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { authorizeNewSecret } from '../lib/operations/secrets.js';
import { assertSecretName, newArnSuffix } from '../lib/secrets/names.js';
import {
  managedSecretParameters,
  secretDataParameter,
  secretDataTypeParameter,
  secretNameParameter,
  secretValueOf,
  versionIdParameter,
} from '../lib/protocol/alibaba/secrets.js';
import { parseTags } from '../lib/operations/tags.js';
import { jsonTextParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId, refuse } from '../lib/protocol/aws/fields.js';
import { text } from '../lib/protocol/aws/json.js';
import { arnAndName, awsTags, clientRequestToken, secretName, secretOf, secretValueField, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';
import type { SecretValue } from '../lib/secrets/secret-store.js';

/** CreateSecret's input, whatever the protocol: AWS's may leave the value (and so the version) out. */
type CreateSecretInput = {
  SecretName: string;
  VersionId?: string;
  value?: SecretValue;
  EncryptionKeyId: string | undefined;
  Description: string | undefined;
  tags: Array<[string, string]>;
};

type CreateSecretOutput = WithSecret<{ Arn: string; VersionId?: string; SecretName: string; SecretType: 'Generic' }>;

/**
 * CreateSecret: a Generic secret with its first version (`ACSCurrent`). Authorised as
 * `kms:CreateSecret` on the ARN of the name being created; with `EncryptionKeyId` (a symmetric key
 * of this service, by id, alias or ARN) the caller also needs `kms:GenerateDataKey` on it. Without
 * one the value is sealed under the service's default secrets key (`alias/kms/secrets`). A name in
 * use is 409 Rejected.ResourceExist unless the call repeats the name, VersionId and value exactly
 * (then it succeeds); a name pending deletion is 409 Rejected.ResourceInDeleteWindow. Managed-secret
 * parameters are refused (400 InvalidParameter).
 */
export const action = defineAction({
  name: 'CreateSecret',
  group: 'secrets-lifecycle',
  store: 'creates-material',
  alibaba: {
    params: z.pipe(
      z.object({
        SecretName: secretNameParameter,
        VersionId: versionIdParameter,
        SecretData: secretDataParameter,
        SecretDataType: secretDataTypeParameter,
        EncryptionKeyId: z.optional(keyIdParameter),
        Description: z.optional(z.string()),
        Tags: z.optional(jsonTextParameter),
        ...managedSecretParameters,
      }),
      z.transform((p) => ({
        SecretName: p.SecretName,
        VersionId: p.VersionId,
        value: secretValueOf(p.SecretData, p.SecretDataType),
        EncryptionKeyId: p.EncryptionKeyId,
        Description: p.Description,
        tags: p.Tags === undefined ? [] : parseTags(p.Tags),
      })),
    ),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'CreateSecret',
      input(body, scope) {
        refuse(body, ['AddReplicaRegions', 'ForceOverwriteReplicaSecret', 'Type']);
        const value = secretValueField(body);
        const Description = text(body, 'Description', { max: 2048 });
        const EncryptionKeyId = text(body, 'KmsKeyId') === undefined ? undefined : keyId(body, scope, 'KmsKeyId');
        return {
          SecretName: secretName(body),
          // The token names the first version; without a value there is none (AWS: a secret with no version).
          ...(value === undefined ? {} : { VersionId: clientRequestToken(body), value }),
          EncryptionKeyId,
          Description,
          tags: awsTags(body, false) ?? [],
        };
      },
      output: (o: CreateSecretOutput, c) => ({ ...arnAndName(secretOf(o), c), ...(o.VersionId === undefined ? {} : { VersionId: o.VersionId }) }),
    },
  ],
  async resolve(input: CreateSecretInput, context) {
    assertSecretName(input.SecretName, 'SecretName');
    // Authorised on both ARNs the new secret will have: the AWS one carries the suffix it is given.
    const suffix = newArnSuffix();
    authorizeNewSecret(input.SecretName, suffix, context);
    if (input.EncryptionKeyId === undefined) return { suffix };
    const key = await resolveAuthorizedKey(input.EncryptionKeyId, context, { action: 'kms:GenerateDataKey', parameter: 'EncryptionKeyId', usable: true });
    return { suffix, kmsKeyId: key.keyId };
  },
  async execute(input: CreateSecretInput, { suffix, kmsKeyId }, context): Promise<CreateSecretOutput> {
    try {
      const { secret } = await context.service.secrets.create({
        name: input.SecretName,
        ...(input.VersionId === undefined ? {} : { versionId: input.VersionId }),
        ...(input.value === undefined ? {} : { value: input.value }),
        ...(input.Description === undefined ? {} : { description: input.Description }),
        ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
        tags: input.tags,
        suffix,
      });
      return withSecret(
        { Arn: secret.arn, ...(input.VersionId === undefined ? {} : { VersionId: input.VersionId }), SecretName: secret.name, SecretType: 'Generic' as const },
        secret,
      );
    } finally {
      input.value?.bytes.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
