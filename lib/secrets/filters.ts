import * as z from '../zod.js';
import { InvalidParameterError } from '../errors.js';
import type { SecretView } from './secret-store.js';

/* The filters of ListSecrets (both protocols') and BatchGetSecretValue: Alibaba's keys and AWS's. */

export const FILTER_KEYS = ['SecretName', 'Description', 'TagKey', 'TagValue', 'SecretType', 'DKMSInstanceId'] as const;
/** AWS's filter keys (ListSecrets `Filters[].Key`). */
export const AWS_FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
export type Filter = { Key: (typeof FILTER_KEYS)[number] | (typeof AWS_FILTER_KEYS)[number]; Values: string[] };
const FILTERS_TEXT = `It must be a JSON list of {"Key": one of ${FILTER_KEYS.join(', ')}, "Values": [1 to 10 strings]}.`;
export const AWS_FILTERS_TEXT = `It must be a list of up to 10 {"Key": one of ${AWS_FILTER_KEYS.join(', ')}, "Values": [1 to 10 strings]}.`;

/** `Filters`: `[{"Key": "SecretName", "Values": ["a", "b"]}]`; a secret must match every filter, and a filter any of its values. */
export function parseSecretFilters(text: string): Filter[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidParameterError('Filters', FILTERS_TEXT);
  }
  return filtersOf(value, FILTER_KEYS, FILTERS_TEXT);
}

export function filtersOf(value: unknown, keys: readonly [string, ...string[]], message: string): Filter[] {
  const parsed = z
    .array(z.strictObject({ Key: z.enum(keys), Values: z.array(z.string().check(z.maxLength(512))).check(z.minLength(1), z.maxLength(10)) }))
    .check(z.maxLength(10))
    .safeParse(value);
  if (!parsed.success) throw new InvalidParameterError('Filters', message);
  return parsed.data as Filter[];
}

/**
 * Whether a secret passes a filter. Alibaba's keys: SecretName and Description by substring (as
 * Alibaba's console searches), TagKey and TagValue exactly, SecretType `Generic` (every secret
 * here), DKMSInstanceId none. AWS's keys, as AWS documents them: prefixes (description and `all`
 * ignoring case), `all` any of name, description, tag keys and values; a value starting with `!`
 * matches the secrets the rest does not; primary-region and owning-service match nothing (no
 * secret is replicated or owned by another service).
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
      case 'DKMSInstanceId':
        // No secret is in a KMS instance.
        return false;
      default: {
        const negated = v.startsWith('!');
        return awsMatch(secret, filter.Key, negated ? v.slice(1) : v) !== negated;
      }
    }
  });
}

function awsMatch(secret: SecretView, key: (typeof AWS_FILTER_KEYS)[number], value: string): boolean {
  const prefix = (text: string, ignoreCase = false) => (ignoreCase ? text.toLowerCase().startsWith(value.toLowerCase()) : text.startsWith(value));
  switch (key) {
    case 'name':
      return prefix(secret.name);
    case 'description':
      return prefix(secret.description, true);
    case 'tag-key':
      return secret.tags.some(([k]) => prefix(k));
    case 'tag-value':
      return secret.tags.some(([, v]) => prefix(v));
    case 'all':
      return [secret.name, secret.description, ...secret.tags.flat()].some((text) => prefix(text, true));
    default:
      return false;
  }
}

/** Whether a secret passes every filter (and each filter by any of its values). */
export const matchesFilters = (secret: SecretView, filters: readonly Filter[]): boolean => filters.every((f) => matches(secret, f));
