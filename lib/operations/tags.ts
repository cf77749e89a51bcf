import * as z from '../zod.js';
import { InvalidParameterError, MissingParameterError, ResourceNotFoundError, TagLimitExceededError } from '../errors.js';
import type { KeyRecord } from '../keyring/records.js';

/** Tags a key may carry (Alibaba: 10 per TagResource call page, 20 per CreateKey; the larger, so nothing Alibaba accepts is refused). */
export const MAX_TAGS = 20;
/**
 * ASCII letters, digits and `/ \ _ - . + = : @`; a key 1–128, a value up to 128 (empty allowed).
 * ASCII only, so a character is a byte (the reference counts bytes) and no look-alike letter
 * slips past the reserved prefixes.
 */
const TAG_TEXT = /^[A-Za-z0-9/\\_\-.+=:@]*$/;
const RESERVED = /^(aliyun|acs:)/i;

function tagKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > 128) return 'A TagKey has 1 to 128 characters.';
  if (!TAG_TEXT.test(key)) return 'A TagKey holds ASCII letters, digits and / \\ _ - . + = : @ only.';
  if (RESERVED.test(key)) return 'A TagKey may not start with aliyun or acs:.';
  return undefined;
}

const TAGS_TEXT = 'It must be a JSON list of {"TagKey": "…", "TagValue": "…"}.';

/** `Tags` as text: a JSON list of `{"TagKey": …, "TagValue": …}` (see {@link tagsOfList}). */
export function parseTags(text: string, parameter = 'Tags'): Array<[string, string]> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidParameterError(parameter, TAGS_TEXT);
  }
  return tagsOfList(value, parameter);
}

/** A list of 1–20 `{"TagKey": …, "TagValue": …}`, each key once, as `[key, value]` pairs. */
export function tagsOfList(value: unknown, parameter = 'Tags'): Array<[string, string]> {
  const parsed = z
    .array(z.strictObject({ TagKey: z.string(), TagValue: z.string() }))
    .check(z.minLength(1), z.maxLength(MAX_TAGS))
    .safeParse(value);
  if (!parsed.success) throw new InvalidParameterError(parameter, `It must be a JSON list of 1 to ${MAX_TAGS} {"TagKey": "…", "TagValue": "…"}.`);
  const seen = new Set<string>();
  return parsed.data.map(({ TagKey, TagValue }) => {
    const problem = tagKeyProblem(TagKey);
    if (problem) throw new InvalidParameterError(parameter, problem);
    if (TagValue.length > 128 || !TAG_TEXT.test(TagValue))
      throw new InvalidParameterError(parameter, 'A TagValue has up to 128 ASCII letters, digits and / \\ _ - . + = : @.');
    if (seen.has(TagKey)) throw new InvalidParameterError(parameter, 'A TagKey may appear once.');
    seen.add(TagKey);
    return [TagKey, TagValue];
  });
}

/** `TagKeys` as text: a JSON list of keys, or keys separated by commas (see {@link tagKeysOfList}). */
export function parseTagKeys(text: string, parameter = 'TagKeys'): string[] {
  let keys: unknown;
  if (text.trimStart().startsWith('[')) {
    try {
      keys = JSON.parse(text);
    } catch {
      throw new InvalidParameterError(parameter, 'It must be a JSON list of tag keys, or keys separated by commas.');
    }
  } else {
    keys = text.split(',').map((k) => k.trim());
  }
  return tagKeysOfList(keys, parameter);
}

/** A list of 1–20 tag keys. */
export function tagKeysOfList(keys: unknown, parameter = 'TagKeys'): string[] {
  const parsed = z.array(z.string()).check(z.minLength(1), z.maxLength(MAX_TAGS)).safeParse(keys);
  if (!parsed.success) throw new InvalidParameterError(parameter, `It must name 1 to ${MAX_TAGS} tag keys.`);
  for (const key of parsed.data) {
    const problem = tagKeyProblem(key);
    if (problem) throw new InvalidParameterError(parameter, problem);
  }
  return parsed.data;
}

/** The record with `tags` set (an existing key's value replaced), or TagLimitExceededError past {@link MAX_TAGS}. */
export function withTags(record: KeyRecord, tags: ReadonlyArray<[string, string]>): KeyRecord {
  const merged = new Map(record.tags ?? []);
  for (const [key, value] of tags) merged.set(key, value);
  if (merged.size > MAX_TAGS) throw new TagLimitExceededError(MAX_TAGS);
  return { ...record, tags: [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** The record without the tags named (keys it does not carry are ignored). */
export function withoutTags(record: KeyRecord, keys: readonly string[]): KeyRecord {
  const drop = new Set(keys);
  const { tags, ...rest } = record;
  const left = (tags ?? []).filter(([key]) => !drop.has(key));
  return left.length > 0 ? { ...rest, tags: left } : rest;
}

/** What a tag Action names: a key (`KeyId`) or a secret (`SecretName`). */
export type TaggedResource = { KeyId: string; SecretName?: undefined } | { SecretName: string; KeyId?: undefined };

/** The resource a tag Action names: exactly one of KeyId, SecretName, CertificateId may be given; keys and secrets are served (certificates: 404). */
export function taggedResource(input: { KeyId?: string | undefined; SecretName?: string | undefined; CertificateId?: string | undefined }): TaggedResource {
  const named = (['KeyId', 'SecretName', 'CertificateId'] as const).filter((name) => input[name] !== undefined);
  if (named.length === 0) throw new MissingParameterError('KeyId');
  if (named.length > 1) throw new InvalidParameterError(named[1]!, 'Name one resource: KeyId, SecretName or CertificateId.');
  if (input.KeyId !== undefined) return { KeyId: input.KeyId };
  if (input.SecretName !== undefined) return { SecretName: input.SecretName };
  throw new ResourceNotFoundError(named[0]!);
}
