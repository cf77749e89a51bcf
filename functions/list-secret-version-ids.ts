import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { page } from '../lib/operations/paging.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { alibabaStages, secretNameParameter } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';

type ListSecretVersionIdsOutput = {
  SecretName: string;
  VersionIds: { VersionId: Array<{ VersionId: string; CreateTime: string; VersionStages: { VersionStage: string[] } }> };
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
};

/** Alibaba's default page for this Action (its other List Actions have 10). */
export const VERSION_PAGE_SIZE = 20;

/**
 * ListSecretVersionIds: a secret's versions with a stage, oldest first, or every kept version with
 * `IncludeDeprecated=true`; paged (`PageSize` default 20). Served while the secret is pending deletion.
 */
export const action = defineAction({
  name: 'ListSecretVersionIds',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({ SecretName: secretNameParameter, IncludeDeprecated: z.optional(booleanParameter), ...pagingParameters }) },
  async resolve(input, context) {
    await authorizedSecret(input.SecretName, context);
  },
  async execute(input, _resolved, context): Promise<ListSecretVersionIdsOutput> {
    const { secret, versions } = await context.service.secrets.listVersions(input.SecretName, { includeDeprecated: input.IncludeDeprecated === true });
    const { items, ...paging } = page(versions, { PageNumber: input.PageNumber, PageSize: input.PageSize ?? VERSION_PAGE_SIZE });
    return {
      SecretName: secret.name,
      VersionIds: { VersionId: items.map((v) => ({ VersionId: v.versionId, CreateTime: v.createdAt, VersionStages: alibabaStages(v.labels) })) },
      ...paging,
    };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
