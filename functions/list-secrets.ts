import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { InvalidParameterError } from '../lib/errors.js';
import { page } from '../lib/operations/paging.js';
import { alibabaTags } from '../lib/protocol/alibaba/secrets.js';
import { booleanParameter, jsonTextParameter, pagingParameters } from '../lib/protocol/alibaba/schema.js';
import type { SecretView } from '../lib/secrets/secret-store.js';

type ListedSecret = {
  SecretName: string;
  SecretType: 'Generic';
  CreateTime: string;
  UpdateTime: string;
  PlannedDeleteTime?: string;
  Tags?: { Tag: Array<{ TagKey: string; TagValue: string }> };
};
type ListSecretsOutput = { SecretList: { Secret: ListedSecret[] }; TotalCount: number; PageNumber: number; PageSize: number };

const FILTER_KEYS = ['SecretName', 'Description', 'TagKey', 'TagValue', 'SecretType', 'DKMSInstanceId'] as const;
type Filter = { Key: (typeof FILTER_KEYS)[number]; Values: string[] };
const FILTERS_TEXT = `It must be a JSON list of {"Key": one of ${FILTER_KEYS.join(', ')}, "Values": [1 to 10 strings]}.`;

/** `Filters`: `[{"Key": "SecretName", "Values": ["a", "b"]}]`; a secret must match every filter, and a filter any of its values. */
export function parseSecretFilters(text: string): Filter[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidParameterError('Filters', FILTERS_TEXT);
  }
  const parsed = z
    .array(z.strictObject({ Key: z.enum(FILTER_KEYS), Values: z.array(z.string()).check(z.minLength(1), z.maxLength(10)) }))
    .check(z.maxLength(10))
    .safeParse(value);
  if (!parsed.success) throw new InvalidParameterError('Filters', FILTERS_TEXT);
  return parsed.data;
}

/**
 * Whether a secret passes a filter: SecretName and Description by substring (as Alibaba's console
 * searches), TagKey and TagValue exactly, SecretType `Generic` (every secret here), DKMSInstanceId
 * none (no secret is in a KMS instance).
 */
function matches(secret: SecretView, filter: Filter): boolean {
  return filter.Values.some((v) => {
    switch (filter.Key) {
      case 'SecretName':
        return secret.name.includes(v);
      case 'Description':
        return secret.description.includes(v);
      case 'TagKey':
        return secret.tags.some(([key]) => key === v);
      case 'TagValue':
        return secret.tags.some(([, value]) => value === v);
      case 'SecretType':
        return v === 'Generic';
      default:
        // DKMSInstanceId: no secret is in a KMS instance.
        return false;
    }
  });
}

const HIDDEN = new Error('hidden');

/**
 * ListSecrets: the secrets, by name, those pending deletion too (with `PlannedDeleteTime`), paged
 * (`PageNumber` from 1, `PageSize` 1–100, default 10), filtered by `Filters`; `Tags.Tag` with
 * `FetchTags=true`. Authorised on `*`; it lists only the secrets the caller may `kms:DescribeSecret`.
 */
export const action = defineAction({
  name: 'ListSecrets',
  group: 'read',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({
        ...pagingParameters,
        FetchTags: z.optional(booleanParameter),
        Filters: z.optional(jsonTextParameter),
      }),
      z.transform(({ Filters, ...p }) => ({ ...p, filters: Filters === undefined ? [] : parseSecretFilters(Filters) })),
    ),
  },
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input, _resolved, context): Promise<ListSecretsOutput> {
    const describable = (secret: SecretView): boolean => {
      try {
        context.authorize(secret.arn, 'kms:DescribeSecret', () => HIDDEN);
        return true;
      } catch (err) {
        if (err === HIDDEN) return false;
        throw err;
      }
    };
    const secrets = (await context.service.secrets.list()).filter((s) => input.filters.every((f) => matches(s, f)) && describable(s));
    const { items, ...paging } = page(secrets, input);
    return {
      SecretList: {
        Secret: items.map((s) => ({
          SecretName: s.name,
          SecretType: 'Generic',
          CreateTime: s.createdAt,
          UpdateTime: s.updatedAt,
          ...(s.plannedDeleteAt === undefined ? {} : { PlannedDeleteTime: s.plannedDeleteAt }),
          ...(input.FetchTags ? { Tags: alibabaTags(s.tags) } : {}),
        })),
      },
      ...paging,
    };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
