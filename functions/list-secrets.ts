import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { InvalidParameterError } from '../lib/errors.js';
import { page } from '../lib/operations/paging.js';
import { alibabaTags } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter, jsonTextParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';
import type { SecretView } from '../lib/secrets/secret-store.js';
import { AWS_FILTER_KEYS, AWS_FILTERS_TEXT, type Filter, filtersOf, matchesFilters, parseSecretFilters } from '../lib/secrets/filters.js';
import { list } from '../lib/protocol/aws/fields.js';
import { bool, text } from '../lib/protocol/aws/json.js';
import { awsPage, awsSecretMetadata, nextToken, secretsOf, versionIdsToStages, type WithSecrets, withSecrets } from '../lib/protocol/aws/secrets.js';
import { mayDescribeSecret } from '../lib/operations/secrets.js';

type ListedSecret = {
  SecretName: string;
  SecretType: 'Generic';
  CreateTime: string;
  UpdateTime: string;
  PlannedDeleteTime?: string;
  Tags?: { Tag: Array<{ TagKey: string; TagValue: string }> };
};
type ListSecretsOutput = WithSecrets<{ SecretList: { Secret: ListedSecret[] }; TotalCount: number; PageNumber: number; PageSize: number }>;

/** How a listing is ordered: by name (Alibaba's), or AWS's `SortBy` (default created-date); ties by name. */
type SortBy = 'name' | 'created-date' | 'last-changed-date' | 'last-accessed-date';
const sortKey = (secret: SecretView, by: SortBy): string => (by === 'name' ? secret.name : by === 'created-date' ? secret.createdAt : secret.updatedAt);

type ListSecretsInput = {
  PageNumber?: number | undefined;
  PageSize?: number | undefined;
  FetchTags?: boolean | undefined;
  filters: Filter[];
  /** Alibaba lists secrets pending deletion; AWS only when asked (`IncludePlannedDeletion`). */
  includePlannedDeletion: boolean;
  sortBy?: SortBy;
  descending?: boolean;
};

/**
 * ListSecrets: the secrets, by name, those pending deletion too (with `PlannedDeleteTime`), paged
 * (`PageNumber` from 1, `PageSize` 1–100, default 10), filtered by `Filters`; `Tags.Tag` with
 * `FetchTags=true`. Through AWS's protocol: `MaxResults` (1–100) and `NextToken`, AWS's filters,
 * `SortBy`/`SortOrder`, and secrets pending deletion only with `IncludePlannedDeletion`.
 * Authorised on `*`; it lists only the secrets the caller may `kms:DescribeSecret`.
 */
export const action = defineAction({
  name: 'ListSecrets',
  group: 'secrets-list',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({
        ...pagingParameters,
        FetchTags: z.optional(booleanParameter),
        Filters: z.optional(jsonTextParameter),
      }),
      z.transform(
        ({ Filters, ...p }): ListSecretsInput => ({
          ...p,
          filters: Filters === undefined ? [] : parseSecretFilters(Filters),
          includePlannedDeletion: true,
        }),
      ),
    ),
  },
  aws: [
    {
      service: 'secretsmanager',
      target: 'ListSecrets',
      input(body): ListSecretsInput {
        const order = text(body, 'SortOrder');
        if (order !== undefined && order !== 'asc' && order !== 'desc') throw new InvalidParameterError('SortOrder', 'It must be asc or desc.');
        const sortBy = text(body, 'SortBy');
        if (sortBy !== undefined && !['name', 'created-date', 'last-changed-date', 'last-accessed-date'].includes(sortBy)) {
          throw new InvalidParameterError('SortBy', 'It must be name, created-date, last-changed-date or last-accessed-date.');
        }
        const filters = list(body, 'Filters', false, '{"Key", "Values"}');
        return {
          ...awsPage(body, 100, 100),
          FetchTags: true,
          filters: filters === undefined ? [] : filtersOf(filters, AWS_FILTER_KEYS, AWS_FILTERS_TEXT),
          includePlannedDeletion: bool(body, 'IncludePlannedDeletion') === true,
          // AWS: "If not specified, secrets are listed by CreatedDate."
          sortBy: (sortBy ?? 'created-date') as SortBy,
          descending: order === 'desc',
        };
      },
      output: (o: ListSecretsOutput, c) => ({
        SecretList: secretsOf(o).map((secret) => ({ ...awsSecretMetadata(secret, c), SecretVersionsToStages: versionIdsToStages(secret) })),
        ...nextToken(o),
      }),
    },
  ],
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input: ListSecretsInput, _resolved, context): Promise<ListSecretsOutput> {
    const secrets = (await context.service.secrets.list({ includePlannedDeletion: input.includePlannedDeletion })).filter(
      (s) => mayDescribeSecret(s, context) && matchesFilters(s, input.filters),
    );
    if (input.sortBy !== undefined && input.sortBy !== 'name') {
      const by = input.sortBy;
      secrets.sort((a, b) => (sortKey(a, by) < sortKey(b, by) ? -1 : sortKey(a, by) > sortKey(b, by) ? 1 : a.name < b.name ? -1 : 1));
    }
    if (input.descending) secrets.reverse();
    const { items, ...paging } = page(secrets, input);
    return withSecrets(
      {
        SecretList: {
          Secret: items.map((s) => ({
            SecretName: s.name,
            SecretType: 'Generic' as const,
            CreateTime: s.createdAt,
            UpdateTime: s.updatedAt,
            ...(s.plannedDeleteAt === undefined ? {} : { PlannedDeleteTime: s.plannedDeleteAt }),
            ...(input.FetchTags ? { Tags: alibabaTags(s.tags) } : {}),
          })),
        },
        ...paging,
      },
      items,
    );
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
