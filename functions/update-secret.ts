import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { authorizedSecret, authorizeSecretKey } from '../lib/operations/secrets.js';
import { secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { keyId } from '../lib/protocol/aws/fields.js';
import { text } from '../lib/protocol/aws/json.js';
import { arnAndName, clientRequestToken, secretId, secretOf, secretValueField, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';
import { MAX_DESCRIPTION, type SecretValue } from '../lib/secrets/secret-store.js';

/** UpdateSecret's input: Alibaba's changes the Description only; AWS's may also change the key and add a version. */
type UpdateSecretInput = {
  SecretName: string;
  Description?: string | undefined;
  /** A key reference (id, alias, ARN): the key new versions are sealed under, Current, Previous and Pending sealed again. */
  KmsKeyId?: string;
  /** A new version (it becomes Current), named by `VersionId`. */
  value?: SecretValue;
  VersionId?: string;
};

type UpdateSecretOutput = WithSecret<{ SecretName: string; VersionId?: string }>;

/**
 * UpdateSecret: a secret's `Description` (at most 2,048 characters). Through AWS's protocol also its
 * `KmsKeyId` (the caller needs kms:GenerateDataKey on the new key; the Current, Previous and
 * Pending versions are sealed again under it) and a new value (`SecretString`/`SecretBinary`, a
 * version named by `ClientRequestToken` that becomes Current; kms:GenerateDataKey on a user key).
 * 409 Rejected.ResourceInDeleteWindow while pending deletion.
 */
export const action = defineAction({
  name: 'UpdateSecret',
  group: 'secrets-write',
  store: 'creates-material',
  alibaba: {
    params: z.object({
      SecretName: secretNameParameter,
      Description: z.optional(
        z.string().check(z.maxLength(MAX_DESCRIPTION, { error: `It must be at most ${MAX_DESCRIPTION.toLocaleString('en-US')} characters.` })),
      ),
    }) as z.ZodMiniType<UpdateSecretInput, unknown>,
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'UpdateSecret',
      input(body, scope): UpdateSecretInput {
        const value = secretValueField(body);
        const Description = text(body, 'Description', { max: MAX_DESCRIPTION });
        return {
          SecretName: secretId(body),
          ...(Description === undefined ? {} : { Description }),
          ...(text(body, 'KmsKeyId') === undefined ? {} : { KmsKeyId: keyId(body, scope, 'KmsKeyId') }),
          ...(value === undefined ? {} : { value, VersionId: clientRequestToken(body) }),
        };
      },
      output: (o: UpdateSecretOutput, c) => ({ ...arnAndName(secretOf(o), c), ...(o.VersionId === undefined ? {} : { VersionId: o.VersionId }) }),
    },
  ],
  async resolve(input: UpdateSecretInput, context) {
    const secret = await authorizedSecret(input.SecretName, context);
    const newKey =
      input.KmsKeyId === undefined
        ? undefined
        : (await resolveAuthorizedKey(input.KmsKeyId, context, { action: 'kms:GenerateDataKey', parameter: 'KmsKeyId', usable: true })).keyId;
    if (input.value !== undefined && newKey === undefined) authorizeSecretKey(secret, context, 'kms:GenerateDataKey');
    return { secret, newKey };
  },
  async execute(input: UpdateSecretInput, { secret: authorized, newKey }, context): Promise<UpdateSecretOutput> {
    const { secrets } = context.service;
    try {
      let secret = newKey === undefined ? undefined : await secrets.updateKey(authorized, newKey);
      // No change asked: nothing to change, but the secret must be there and not pending deletion.
      if (input.Description !== undefined || (newKey === undefined && input.value === undefined)) {
        secret = await secrets.updateDescription(authorized, input.Description ?? authorized.description);
      }
      if (input.value !== undefined) {
        const put = await secrets.putValue(authorized, { versionId: input.VersionId!, value: input.value });
        return withSecret({ SecretName: put.secret.name, VersionId: put.version.versionId }, put.secret);
      }
      return withSecret({ SecretName: secret!.name }, secret!);
    } finally {
      input.value?.bytes.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
