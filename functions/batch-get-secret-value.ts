import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { InvalidParameterError, KmsError } from '../lib/errors.js';
import { page } from '../lib/operations/paging.js';
import { authorizedSecret, authorizeSecretKey, mayDescribeSecret } from '../lib/operations/secrets.js';
import { list } from '../lib/protocol/aws/fields.js';
import { awsPage, arnOf, awsSecretValue, awsStages, nextToken, stringList } from '../lib/protocol/aws/secrets.js';
import { awsErrorOf, awsMessageOf } from '../lib/protocol/aws/wire.js';
import { epochSeconds } from '../lib/protocol/aws/shapes.js';
import { AWS_FILTER_KEYS, AWS_FILTERS_TEXT, type Filter, filtersOf, matchesFilters } from '../lib/secrets/filters.js';
import type { SecretValueView } from '../lib/secrets/secret-store.js';

type BatchGetSecretValueInput = { SecretIdList?: string[]; filters?: Filter[]; PageNumber: number; PageSize: number };

/** One secret's outcome: its value (the caller's to zero once answered), or why not. */
type BatchEntry = { secretId: string; found?: SecretValueView; error?: KmsError };
type BatchGetSecretValueOutput = { entries: BatchEntry[]; TotalCount: number; PageNumber: number; PageSize: number };

/**
 * BatchGetSecretValue (AWS Secrets Manager only): the current values of up to 20 secrets, named in
 * `SecretIdList` or chosen by `Filters` (paged by `MaxResults`, 1–20, and `NextToken`). Authorised
 * as kms:BatchGetSecretValue on `*` (`secretsmanager:BatchGetSecretValue`), with Filters also
 * kms:ListSecrets; each secret as GetSecretValue is (kms:GetSecretValue on its ARNs, kms:Decrypt on
 * a user key). A secret that cannot be read is an entry of `Errors` (its SecretId, AWS's error code
 * and message), not a failure of the call.
 */
export const action = defineAction({
  name: 'BatchGetSecretValue',
  group: 'secrets-read',
  store: 'reads',
  aws: [
    {
      service: 'secretsmanager',
      target: 'BatchGetSecretValue',
      keyStateError: 'DecryptionFailure',
      input(body): BatchGetSecretValueInput {
        const ids = stringList(body, 'SecretIdList', 20);
        const filters = list(body, 'Filters', false, '{"Key", "Values"}');
        if ((ids === undefined) === (filters === undefined)) throw new InvalidParameterError('SecretIdList', 'Give SecretIdList or Filters, one of them.');
        if (ids !== undefined) {
          if (body.MaxResults !== undefined || body.NextToken !== undefined) {
            throw new InvalidParameterError('MaxResults', 'MaxResults and NextToken go with Filters, not SecretIdList.');
          }
          return { SecretIdList: ids, PageNumber: 1, PageSize: 20 };
        }
        return { filters: filtersOf(filters, AWS_FILTER_KEYS, AWS_FILTERS_TEXT), ...awsPage(body, 20, 20) };
      },
      output(o: BatchGetSecretValueOutput, c) {
        const SecretValues: Record<string, unknown>[] = [];
        const Errors: Record<string, unknown>[] = [];
        for (const entry of o.entries) {
          if (entry.found) {
            const { secret, version, value } = entry.found;
            SecretValues.push({
              ARN: arnOf(secret, c),
              Name: secret.name,
              VersionId: version.versionId,
              ...awsSecretValue(version, value),
              VersionStages: awsStages(version.labels),
              CreatedDate: epochSeconds(version.createdAt),
            });
            value.fill(0);
          } else if (entry.error) {
            const error = entry.error;
            Errors.push({
              SecretId: entry.secretId,
              ErrorCode: awsErrorOf(error, { service: 'secretsmanager', keyStateError: 'DecryptionFailure' }).type,
              Message: awsMessageOf(error),
            });
          }
        }
        return { SecretValues, Errors, ...nextToken(o) };
      },
    },
  ],
  async resolve(input: BatchGetSecretValueInput, context) {
    context.authorize('*');
    if (input.filters !== undefined) context.authorize('*', 'kms:ListSecrets');
  },
  async execute(input: BatchGetSecretValueInput, _resolved, context): Promise<BatchGetSecretValueOutput> {
    const { secrets } = context.service;
    let ids: string[];
    let paging = { TotalCount: 0, PageNumber: input.PageNumber, PageSize: input.PageSize };
    if (input.SecretIdList !== undefined) {
      ids = input.SecretIdList;
      paging.TotalCount = ids.length;
    } else {
      // As ListSecrets: only the secrets the caller may describe are filtered, so neither Errors nor
      // paging tells anything of the others.
      const filtered = (await secrets.list({ includePlannedDeletion: false })).filter(
        (s) => mayDescribeSecret(s, context) && matchesFilters(s, input.filters ?? []),
      );
      const { items, ...rest } = page(filtered, input);
      paging = rest;
      ids = items.map((s) => s.name);
    }
    const entries: BatchEntry[] = [];
    for (const secretId of ids) {
      try {
        const secret = await authorizedSecret(secretId, context, 'kms:GetSecretValue', 'SecretIdList');
        authorizeSecretKey(secret, context, 'kms:Decrypt');
        // The secret authorised, by its name and suffix (not one re-created under the name since).
        entries.push({ secretId, found: await secrets.getValue(secret) });
      } catch (err) {
        // A refusal or failure of one secret is its entry; anything that is not a service error fails the call.
        if (!(err instanceof KmsError) || err.statusCode >= 500) {
          for (const e of entries) e.found?.value.fill(0);
          throw err;
        }
        entries.push({ secretId, error: err });
      }
    }
    return { entries, ...paging };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
