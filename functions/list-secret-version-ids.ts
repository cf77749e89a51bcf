import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { page } from '../lib/operations/paging.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { alibabaStages, secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';
import { bool } from '../lib/protocol/aws/json.js';
import { arnAndName, awsPage, awsStages, nextToken, secretId, secretOf, type WithSecret, withSecret } from '../lib/protocol/aws/secrets.js';
import { epochSeconds } from '../lib/protocol/aws/shapes.js';

type ListSecretVersionIdsOutput = WithSecret<{
  SecretName: string;
  VersionIds: { VersionId: Array<{ VersionId: string; CreateTime: string; VersionStages: { VersionStage: string[] } }> };
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
}>;

/** Alibaba's default page for this Action (its other List Actions have 10). */
export const VERSION_PAGE_SIZE = 20;

/**
 * ListSecretVersionIds: a secret's versions with a stage, oldest first, or every kept version with
 * `IncludeDeprecated=true`; paged (`PageSize` default 20). Served while the secret is pending deletion.
 */
export const action = defineAction({
  name: 'ListSecretVersionIds',
  group: 'secrets-list',
  store: 'reads',
  alibaba: { params: z.object({ SecretName: secretNameParameter, IncludeDeprecated: z.optional(booleanParameter), ...pagingParameters }) },
  aws: [
    {
      service: 'secretsmanager',
      target: 'ListSecretVersionIds',
      input: (body) => ({ SecretName: secretId(body), IncludeDeprecated: bool(body, 'IncludeDeprecated') === true, ...awsPage(body, 100, 100) }),
      output: (o: ListSecretVersionIdsOutput, c) => {
        const secret = secretOf(o);
        const keyOf = new Map(secret.versions.map((v) => [v.versionId, v.keyId]));
        return {
          ...arnAndName(secret, c),
          Versions: o.VersionIds.VersionId.map((v) => ({
            VersionId: v.VersionId,
            VersionStages: awsStages(v.VersionStages.VersionStage),
            CreatedDate: epochSeconds(v.CreateTime),
            KmsKeyIds: [keyOf.get(v.VersionId)],
          })),
          ...nextToken(o),
        };
      },
    },
  ],
  async resolve(input, context) {
    return authorizedSecret(input.SecretName, context);
  },
  async execute(input, authorized, context): Promise<ListSecretVersionIdsOutput> {
    const { secret, versions } = await context.service.secrets.listVersions(authorized, { includeDeprecated: input.IncludeDeprecated === true });
    const { items, ...paging } = page(versions, { PageNumber: input.PageNumber, PageSize: input.PageSize ?? VERSION_PAGE_SIZE });
    return withSecret(
      {
        SecretName: secret.name,
        VersionIds: { VersionId: items.map((v) => ({ VersionId: v.versionId, CreateTime: v.createdAt, VersionStages: alibabaStages(v.labels) })) },
        ...paging,
      },
      secret,
    );
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
