import { randomUUID } from 'node:crypto';
import { InvalidNextTokenError, InvalidParameterError, MissingParameterError } from '../../errors.js';
import { assertSecretName, assertSecretReference, assertStageLabel, assertVersionId, awsSecretArn } from '../../secrets/names.js';
import type { SecretValue, SecretVersionView, SecretView } from '../../secrets/secret-store.js';
import { spelledStage } from '../../secrets/stages.js';
import type { AwsBody, AwsOutputContext } from './binding.js';
import { list } from './fields.js';
import { absent, field, integer, text } from './json.js';
import { epochSeconds } from './shapes.js';

/*
 * The AWS Secrets Manager operations' fields (X-Amz-Target `secretsmanager.<Operation>`): how
 * their JSON reads into the secrets Actions' inputs, and how a secret is answered (AWS ARNs with
 * the secret's suffix, AWSCURRENT spellings, epoch-second dates).
 */

/**
 * The secret an Action answered, carried beside its Alibaba fields under a symbol: no serialiser
 * writes it (JSON and XML write string keys only), and the Secrets Manager answers read it for
 * what Alibaba's do not show (the ARN suffix, every version's stages, tags).
 */
export const SECRET = Symbol('secret');
export type WithSecret<T> = T & { [SECRET]?: SecretView };

/** `output` with the secret it concerns attached (see {@link SECRET}). */
export function withSecret<T extends object>(output: T, secret: SecretView): WithSecret<T> {
  return Object.assign(output, { [SECRET]: secret });
}

/** The secret an output carries; an Action that answers a secret always attaches it. */
export function secretOf(output: { [SECRET]?: SecretView }): SecretView {
  const secret = output[SECRET];
  if (secret === undefined) throw new Error('a secrets Action answered without its secret');
  return secret;
}

/** The secrets a listing answered, carried as {@link SECRET} is. */
export const SECRETS = Symbol('secrets');
export type WithSecrets<T> = T & { [SECRETS]?: readonly SecretView[] };

export function withSecrets<T extends object>(output: T, secrets: readonly SecretView[]): WithSecrets<T> {
  return Object.assign(output, { [SECRETS]: secrets });
}

export function secretsOf(output: { [SECRETS]?: readonly SecretView[] }): readonly SecretView[] {
  const secrets = output[SECRETS];
  if (secrets === undefined) throw new Error('a secrets listing answered without its secrets');
  return secrets;
}

// ---- reading ----

/** AWS's limit on SecretString and SecretBinary (bytes). */
export const MAX_AWS_SECRET_BYTES = 65_536;

/*
 * Each reader checks its field by the store's rules under the field's AWS name, before the
 * Action runs: the store's own checks (which name Alibaba's parameters: SecretName, VersionId)
 * then never refuse an AWS request, so an AWS client is always told which of its fields is wrong.
 */

/** `SecretId`: a name, or an ARN in either form (the store reads all four). */
export function secretId(body: AwsBody): string {
  const value = text(body, 'SecretId', { required: true, max: 2048 })!;
  assertSecretReference(value, 'SecretId');
  return value;
}

/** `Name` (CreateSecret): a secret name. */
export function secretName(body: AwsBody): string {
  const value = text(body, 'Name', { required: true, max: 2048 })!;
  assertSecretName(value, 'Name');
  return value;
}

/** A version id field (`VersionId`, `MoveToVersionId`, …): 1–64 printable characters. */
export function versionIdField(body: AwsBody, name: string): string | undefined {
  const value = text(body, name, { max: 64 });
  if (value === '') throw new InvalidParameterError(name, 'It must not be empty.');
  if (value !== undefined) assertVersionId(value, name);
  return value;
}

/** A stage field (`VersionStage`): 1–256 printable characters. */
export function stageField(body: AwsBody, name: string, required = false): string | undefined {
  const value = text(body, name, { required, max: 256 });
  if (value !== undefined) assertStageLabel(value, name);
  return value;
}

/** `VersionStages`: 1 to `max` stages, each 1–256 printable characters. */
export function stagesField(body: AwsBody, name: string, max: number): string[] | undefined {
  const stages = stringList(body, name, max);
  for (const stage of stages ?? []) assertStageLabel(stage, name);
  return stages;
}

/**
 * `ClientRequestToken`: the new version's id (32–64 characters, as AWS's model says); absent, a new
 * UUID, as the AWS SDKs and CLI fill it (so a call without one is never a repeat).
 */
export function clientRequestToken(body: AwsBody): string {
  const value = text(body, 'ClientRequestToken', { max: 64 });
  if (value === undefined) return randomUUID();
  if (value.length < 32) throw new InvalidParameterError('ClientRequestToken', 'It must be 32 to 64 characters.');
  assertVersionId(value, 'ClientRequestToken');
  return value;
}

/** `SecretString` or `SecretBinary` (Base64 on the wire), never both; 1–65,536 bytes. Undefined when neither. */
export function secretValueField(body: AwsBody): SecretValue | undefined {
  const string = text(body, 'SecretString', { max: MAX_AWS_SECRET_BYTES });
  const binary = field(body, 'SecretBinary');
  if (string !== undefined && !absent(binary)) throw new InvalidParameterError('SecretBinary', 'Give SecretString or SecretBinary, not both.');
  if (string !== undefined) {
    const bytes = Buffer.from(string, 'utf8');
    if (bytes.length === 0 || bytes.length > MAX_AWS_SECRET_BYTES) {
      bytes.fill(0);
      throw new InvalidParameterError('SecretString', `It must be 1 to ${MAX_AWS_SECRET_BYTES.toLocaleString('en-US')} bytes.`);
    }
    return { type: 'text', bytes };
  }
  if (absent(binary)) return undefined;
  if (typeof binary !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(binary) || binary.length % 4 !== 0) {
    throw new InvalidParameterError('SecretBinary', 'It must be Base64.');
  }
  const bytes = Buffer.from(binary, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_AWS_SECRET_BYTES) {
    bytes.fill(0);
    throw new InvalidParameterError('SecretBinary', `It must be 1 to ${MAX_AWS_SECRET_BYTES.toLocaleString('en-US')} bytes.`);
  }
  return { type: 'binary', bytes };
}

/** A required value (PutSecretValue). */
export function requiredSecretValue(body: AwsBody): SecretValue {
  const value = secretValueField(body);
  if (value === undefined) throw new MissingParameterError('SecretString');
  return value;
}

/** `Tags`: `[{"Key": …, "Value": …}]`, as `[key, value]` pairs (the store checks the tag rules). */
export function awsTags(body: AwsBody, required: boolean): Array<[string, string]> | undefined {
  const tags = list(body, 'Tags', required, '{"Key", "Value"}');
  if (tags === undefined) return undefined;
  return tags.map((tag) => {
    if (typeof tag !== 'object' || tag === null || Array.isArray(tag)) throw new InvalidParameterError('Tags', 'It must be a list of {"Key", "Value"}.');
    const { Key, Value } = tag as Record<string, unknown>;
    if (typeof Key !== 'string' || (Value !== undefined && typeof Value !== 'string'))
      throw new InvalidParameterError('Tags', 'Each tag has a string Key and Value.');
    return [Key, (Value as string | undefined) ?? ''];
  });
}

/** A list of strings (`VersionStages`, `TagKeys`, `SecretIdList`), 1 to `max` of them, when given. */
export function stringList(body: AwsBody, name: string, max: number, required = false): string[] | undefined {
  const values = list(body, name, required, 'strings');
  if (values === undefined) return undefined;
  if (values.length === 0 || values.length > max || !values.every((v) => typeof v === 'string')) {
    throw new InvalidParameterError(name, `It must be a list of 1 to ${max} strings.`);
  }
  return values as string[];
}

/** `MaxResults` and `NextToken` as a page: NextToken is the next page's number, as this service returned it. */
export function awsPage(body: AwsBody, maxResults: number, defaultResults: number): { PageNumber: number; PageSize: number } {
  const PageSize = integer(body, 'MaxResults', 1, maxResults) ?? defaultResults;
  const token = text(body, 'NextToken', { max: 4096 });
  if (token === undefined) return { PageNumber: 1, PageSize };
  if (!/^[1-9]\d{0,8}$/.test(token)) throw new InvalidNextTokenError();
  return { PageNumber: Number(token), PageSize };
}

/** The NextToken of a page with Alibaba's paging fields, when there are more. */
export function nextToken(page: { PageNumber: number; PageSize: number; TotalCount: number }): { NextToken?: string } {
  return page.PageNumber * page.PageSize < page.TotalCount ? { NextToken: String(page.PageNumber + 1) } : {};
}

// ---- answering ----

/** The secret's AWS ARN in the region the caller signed for. */
export const arnOf = (secret: SecretView, context: AwsOutputContext): string => awsSecretArn(context, secret.name, secret.suffix);

export const awsStages = (labels: readonly string[]): string[] => labels.map((l) => spelledStage(l, 'aws'));

/** `ARN` and `Name`, as every operation on one secret answers. */
export const arnAndName = (secret: SecretView, context: AwsOutputContext) => ({ ARN: arnOf(secret, context), Name: secret.name });

/** `VersionIdsToStages`: the labelled versions' stages. */
export function versionIdsToStages(secret: SecretView): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const version of secret.versions) if (version.labels.length > 0) map[version.versionId] = awsStages(version.labels);
  return map;
}

/** A secret's metadata as DescribeSecret and ListSecrets answer it (only fields with a value). */
export function awsSecretMetadata(secret: SecretView, context: AwsOutputContext): Record<string, unknown> {
  return {
    ...arnAndName(secret, context),
    ...(secret.description ? { Description: secret.description } : {}),
    ...(secret.kmsKeyId === undefined ? {} : { KmsKeyId: secret.kmsKeyId }),
    RotationEnabled: false,
    LastChangedDate: epochSeconds(secret.updatedAt),
    ...(secret.plannedDeleteAt === undefined ? {} : { DeletedDate: epochSeconds(secret.plannedDeleteAt) }),
    ...(secret.tags.length ? { Tags: secret.tags.map(([Key, Value]) => ({ Key, Value })) } : {}),
    CreatedDate: epochSeconds(secret.createdAt),
  };
}

/** A version's value as GetSecretValue answers it: SecretString, or SecretBinary (Base64 on the wire). */
export function awsSecretValue(version: Pick<SecretVersionView, 'type'>, value: Buffer): { SecretString: string } | { SecretBinary: string } {
  return version.type === 'binary' ? { SecretBinary: value.toString('base64') } : { SecretString: value.toString('utf8') };
}
