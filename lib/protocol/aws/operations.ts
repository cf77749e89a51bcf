import { InvalidParameterError, MissingParameterError } from '../../errors.js';
import { BASE64 } from '../../crypto/base64.js';
import type { OperationOutput } from '../../operation.js';
import type { AwsScope } from './scope.js';

export type { AwsScope } from './scope.js';

/**
 * The AWS KMS operations this service serves, each as the Alibaba Action whose operation does the
 * work (so both protocols share keys, policies, the audit log and one code path), with the
 * translation of AWS's JSON input into that Action's parameters and of its output back into
 * AWS's JSON. Policies name the Alibaba Action (`kms:GenerateDataKey` is the same in both; AWS's
 * EnableKeyRotation / DisableKeyRotation are `kms:UpdateRotationPolicy`, GetKeyRotationStatus is
 * `kms:DescribeKey`, GenerateRandom is `kms:GenerateRandom`).
 */
export interface AwsOperation {
  /** The name after `TrentService.` in X-Amz-Target. */
  target: string;
  /** The Alibaba Action that serves it. */
  action: string;
  /** When the serving Action depends on the request (ListAliases with a KeyId: ListAliasesByKeyId). */
  route?(body: AwsBody): string;
  input(body: AwsBody, scope: AwsScope): Map<string, string>;
  output(output: OperationOutput, context: AwsOutputContext): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export type AwsBody = Record<string, unknown>;


export interface AwsOutputContext extends AwsScope {
  /** The region of the request's signature: ARNs in answers name it. */
  region: string;
  /** The parsed request body (to check a KeyId against the key that served). */
  body: AwsBody;
  /** The id of the key the operation was authorised on (the key a KeyId, alias or ARN named). */
  authorizedKeyId: string | undefined;
  now: number;
}

// ---- reading AWS JSON ----------------------------------------------------------------------------

function field(body: AwsBody, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

function text(body: AwsBody, name: string, options: { required?: boolean; max?: number } = {}): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) {
    if (options.required) throw new MissingParameterError(name);
    return undefined;
  }
  if (typeof value !== 'string') throw new InvalidParameterError(name, 'It must be a string.');
  if (options.max !== undefined && value.length > options.max) throw new InvalidParameterError(name, `It must be at most ${options.max} characters.`);
  return value;
}

function integer(body: AwsBody, name: string, min: number, max: number): number | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new InvalidParameterError(name, `It must be an integer from ${min} to ${max}.`);
  return value;
}

function bool(body: AwsBody, name: string): boolean | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidParameterError(name, 'It must be true or false.');
  return value;
}

/** Base64 binary (a blob, a plaintext): checked as Base64 and for its decoded length. */
function binary(body: AwsBody, name: string, maxBytes: number): string {
  const value = text(body, name, { required: true })!;
  if (!BASE64.test(value) || value.length === 0) {
    throw new InvalidParameterError(name, 'It must be Base64-encoded binary data.');
  }
  const bytes = (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  if (bytes < 1 || bytes > maxBytes) throw new InvalidParameterError(name, `It must hold 1 to ${maxBytes} bytes.`);
  return value;
}

/** An EncryptionContext map of strings, as the JSON text the Alibaba operation takes. */
function context(body: AwsBody, name: string): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value as object).some((v) => typeof v !== 'string')) {
    throw new InvalidParameterError(name, 'It must be a map of string keys to string values.');
  }
  return JSON.stringify(value);
}

/** KeySpec / NumberOfBytes as AWS takes them for data keys: exactly one of the two. */
function dataKeyLength(body: AwsBody, params: Map<string, string>): void {
  const spec = text(body, 'KeySpec');
  const bytes = integer(body, 'NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (bytes === undefined)) throw new InvalidParameterError('KeySpec', 'Give either KeySpec (AES_256 or AES_128) or NumberOfBytes, not both and not neither.');
  if (spec !== undefined) params.set('KeySpec', spec);
  if (bytes !== undefined) params.set('NumberOfBytes', String(bytes));
}

/** Fields that ask for something this service does not do (and must not silently skip). */
function refuse(body: AwsBody, names: readonly string[]): void {
  for (const name of names) {
    if (field(body, name) !== undefined && field(body, name) !== null) throw new InvalidParameterError(name, 'It is not supported by this service.');
  }
}

function encryptionAlgorithm(body: AwsBody, name: string): void {
  const algorithm = text(body, name);
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') throw new InvalidParameterError(name, 'Only SYMMETRIC_DEFAULT is supported.');
}

/**
 * An AWS key reference as the Alibaba operations read it: a key id or `alias/…` as it is; an AWS
 * ARN of this account in a served region as the bare id or alias; any other ARN as an Alibaba ARN
 * of that region and account, which names nothing here (404, as in another account).
 */
export function alibabaKeyReference(reference: string, scope: AwsScope, name = 'KeyId'): string {
  if (!reference.startsWith('arn:')) return reference;
  const parts = reference.split(':');
  if (parts.length < 6 || parts[1] !== 'aws' || parts[2] !== 'kms' || !parts[3] || !parts[4]) {
    throw new InvalidParameterError(name, 'An ARN has the form arn:aws:kms:<region>:<account>:key/<id> or …:alias/<name>.');
  }
  const resource = parts.slice(5).join(':');
  if (!resource.startsWith('key/') && !resource.startsWith('alias/')) throw new InvalidParameterError(name, 'An ARN must name a key/<id> or an alias/<name>.');
  if (parts[4] === scope.accountId && scope.regions.has(parts[3])) return resource.startsWith('alias/') ? resource : resource.slice('key/'.length);
  return `acs:kms:${parts[3]}:${parts[4]}:${resource}`;
}

const keyRef = (body: AwsBody, scope: AwsScope, name = 'KeyId') => alibabaKeyReference(text(body, name, { required: true, max: 2048 })!, scope, name);

export const awsKeyArn = (context: { region: string; accountId: string }, keyId: string) => `arn:aws:kms:${context.region}:${context.accountId}:key/${keyId}`;
const awsAliasArn = (context: { region: string; accountId: string }, aliasName: string) => `arn:aws:kms:${context.region}:${context.accountId}:${aliasName}`;
const epochSeconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

function params(entries: Record<string, string | undefined>): Map<string, string> {
  return new Map(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Tags in AWS's list form, as the JSON text the Alibaba operations take. */
function tags(body: AwsBody, name: string, required: boolean): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) {
    if (required) throw new MissingParameterError(name);
    return undefined;
  }
  if (!Array.isArray(value)) throw new InvalidParameterError(name, 'It must be a list of {"TagKey", "TagValue"}.');
  return JSON.stringify(value);
}

/** AWS's KeyMetadata from Alibaba's. */
function keyMetadata(m: Record<string, string>, context: AwsOutputContext): Record<string, unknown> {
  return {
    AWSAccountId: context.accountId,
    KeyId: m.KeyId,
    Arn: awsKeyArn(context, m.KeyId!),
    CreationDate: epochSeconds(m.CreationDate),
    Enabled: m.KeyState === 'Enabled',
    Description: m.Description ?? '',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: m.KeyState,
    ...(m.DeleteDate ? { DeletionDate: epochSeconds(m.DeleteDate) } : {}),
    ...(m.MaterialExpireTime ? { ValidTo: epochSeconds(m.MaterialExpireTime), ExpirationModel: 'KEY_MATERIAL_EXPIRES' } : m.Origin === 'EXTERNAL' ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : {}),
    Origin: m.Origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  };
}

/** Paging: AWS's Limit and opaque Marker over Alibaba's PageSize and PageNumber (a page is at most 100). */
function paging(body: AwsBody): Record<string, string> {
  const limit = integer(body, 'Limit', 1, 1000) ?? 100;
  const marker = text(body, 'Marker', { max: 32 });
  if (marker !== undefined && !/^[1-9]\d{0,8}$/.test(marker)) throw new InvalidParameterError('Marker', 'It must be a NextMarker this service returned.');
  return { PageSize: String(Math.min(limit, 100)), PageNumber: marker ?? '1' };
}

/** ListResourceTags' paging (AWS: Limit 1–50, default 50): the Marker is the offset this service returned. */
function tagPage(body: AwsBody): { offset: number; limit: number } {
  const limit = integer(body, 'Limit', 1, 50) ?? 50;
  const marker = text(body, 'Marker', { max: 32 });
  if (marker !== undefined && !/^[1-9]\d{0,8}$/.test(marker)) throw new InvalidParameterError('Marker', 'It must be a NextMarker this service returned.');
  return { offset: marker === undefined ? 0 : Number(marker), limit };
}

function nextMarker(output: OperationOutput): Record<string, unknown> {
  const { PageNumber, PageSize, TotalCount } = output as { PageNumber: number; PageSize: number; TotalCount: number };
  const truncated = PageNumber * PageSize < TotalCount;
  return truncated ? { Truncated: true, NextMarker: String(PageNumber + 1) } : { Truncated: false };
}

const nothing = () => ({});

export const AWS_OPERATIONS: readonly AwsOperation[] = [
  ...(['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext'] as const).map(
    (target): AwsOperation => ({
      target,
      action: target,
      input(body, scope) {
        // A Recipient (a Nitro enclave's key) asks for the plaintext to be held back: not offered, so refused, never ignored.
        refuse(body, ['Recipient']);
        const p = params({ KeyId: keyRef(body, scope), EncryptionContext: context(body, 'EncryptionContext'), DryRun: bool(body, 'DryRun')?.toString() });
        dataKeyLength(body, p);
        return p;
      },
      output: (o, c) => ({
        CiphertextBlob: o.CiphertextBlob,
        ...(o.Plaintext !== undefined ? { Plaintext: o.Plaintext } : {}),
        KeyId: awsKeyArn(c, o.KeyId as string),
      }),
    }),
  ),
  {
    target: 'Encrypt',
    action: 'Encrypt',
    input(body, scope) {
      encryptionAlgorithm(body, 'EncryptionAlgorithm');
      return params({ KeyId: keyRef(body, scope), Plaintext: binary(body, 'Plaintext', 4096), EncryptionContext: context(body, 'EncryptionContext'), DryRun: bool(body, 'DryRun')?.toString() });
    },
    output: (o, c) => ({ CiphertextBlob: o.CiphertextBlob, KeyId: awsKeyArn(c, o.KeyId as string), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  },
  {
    target: 'Decrypt',
    action: 'Decrypt',
    input(body, scope) {
      encryptionAlgorithm(body, 'EncryptionAlgorithm');
      refuse(body, ['Recipient']);
      const keyId = text(body, 'KeyId', { max: 2048 });
      return params({
        CiphertextBlob: binary(body, 'CiphertextBlob', 6144),
        AwsKeyId: keyId === undefined ? undefined : alibabaKeyReference(keyId, scope),
        EncryptionContext: context(body, 'EncryptionContext'),
        DryRun: bool(body, 'DryRun')?.toString(),
      });
    },
    output: (o, c) => ({ KeyId: awsKeyArn(c, o.KeyId as string), Plaintext: o.Plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  },
  {
    target: 'ReEncrypt',
    action: 'ReEncrypt',
    input(body, scope) {
      encryptionAlgorithm(body, 'SourceEncryptionAlgorithm');
      encryptionAlgorithm(body, 'DestinationEncryptionAlgorithm');
      const source = text(body, 'SourceKeyId', { max: 2048 });
      return params({
        CiphertextBlob: binary(body, 'CiphertextBlob', 6144),
        AwsSourceKeyId: source === undefined ? undefined : alibabaKeyReference(source, scope, 'SourceKeyId'),
        DestinationKeyId: keyRef(body, scope, 'DestinationKeyId'),
        SourceEncryptionContext: context(body, 'SourceEncryptionContext'),
        DestinationEncryptionContext: context(body, 'DestinationEncryptionContext'),
        DryRun: bool(body, 'DryRun')?.toString(),
      });
    },
    output: (o, c) => ({
      CiphertextBlob: o.CiphertextBlob,
      SourceKeyId: awsKeyArn(c, o.SourceKeyId as string),
      KeyId: awsKeyArn(c, o.KeyId as string),
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    }),
  },
  {
    target: 'GenerateRandom',
    action: 'GenerateRandom',
    input(body) {
      refuse(body, ['Recipient', 'CustomKeyStoreId']);
      return params({ NumberOfBytes: String(integer(body, 'NumberOfBytes', 1, 1024) ?? 32) });
    },
    output: (o) => ({ Plaintext: o.Plaintext }),
  },
  {
    target: 'DescribeKey',
    action: 'DescribeKey',
    input: (body, scope) => params({ KeyId: keyRef(body, scope) }),
    output: (o, c) => ({ KeyMetadata: keyMetadata(o.KeyMetadata as Record<string, string>, c) }),
  },
  {
    target: 'GetKeyRotationStatus',
    action: 'DescribeKey',
    input: (body, scope) => params({ KeyId: keyRef(body, scope) }),
    output(o, c) {
      const m = o.KeyMetadata as Record<string, string>;
      const enabled = m.AutomaticRotation === 'Enabled';
      const seconds = /^(\d+)s$/.exec(m.RotationInterval ?? '')?.[1];
      return {
        KeyId: awsKeyArn(c, m.KeyId!),
        KeyRotationEnabled: enabled,
        ...(enabled && seconds ? { RotationPeriodInDays: Math.round(Number(seconds) / 86_400) } : {}),
        ...(enabled && m.NextRotationDate ? { NextRotationDate: epochSeconds(m.NextRotationDate) } : {}),
      };
    },
  },
  {
    target: 'EnableKeyRotation',
    action: 'UpdateRotationPolicy',
    input(body, scope) {
      const days = integer(body, 'RotationPeriodInDays', 90, 730);
      // AWS's default period is 365 days, whatever the key had before.
      return params({ KeyId: keyRef(body, scope), EnableAutomaticRotation: 'true', RotationInterval: `${days ?? 365}d` });
    },
    output: nothing,
  },
  {
    target: 'DisableKeyRotation',
    action: 'UpdateRotationPolicy',
    input: (body, scope) => params({ KeyId: keyRef(body, scope), EnableAutomaticRotation: 'false' }),
    output: nothing,
  },
  {
    target: 'ListKeys',
    action: 'ListKeys',
    input: (body) => params(paging(body)),
    output: (o, c) => ({
      Keys: ((o.Keys as { Key: Array<{ KeyId: string }> }).Key ?? []).map((k) => ({ KeyId: k.KeyId, KeyArn: awsKeyArn(c, k.KeyId) })),
      ...nextMarker(o),
    }),
  },
  {
    target: 'ListAliases',
    action: 'ListAliases',
    // With a KeyId, AWS lists that key's aliases.
    route: (body) => (field(body, 'KeyId') === undefined || field(body, 'KeyId') === null ? 'ListAliases' : 'ListAliasesByKeyId'),
    input(body, scope) {
      const keyId = text(body, 'KeyId', { max: 2048 });
      return params({ ...paging(body), ...(keyId !== undefined ? { KeyId: alibabaKeyReference(keyId, scope) } : {}) });
    },
    output: (o, c) => ({
      Aliases: ((o.Aliases as { Alias: Array<{ AliasName: string; KeyId: string }> }).Alias ?? []).map((a) => ({
        AliasName: a.AliasName,
        AliasArn: awsAliasArn(c, a.AliasName),
        TargetKeyId: a.KeyId,
      })),
      ...nextMarker(o),
    }),
  },
  {
    target: 'CreateKey',
    action: 'CreateKey',
    input(body) {
      for (const name of ['KeySpec', 'CustomerMasterKeySpec'] as const) {
        const spec = text(body, name);
        if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') throw new InvalidParameterError(name, 'Only SYMMETRIC_DEFAULT keys are supported.');
      }
      const usage = text(body, 'KeyUsage');
      if (usage !== undefined && usage !== 'ENCRYPT_DECRYPT') throw new InvalidParameterError('KeyUsage', 'Only ENCRYPT_DECRYPT is supported.');
      const origin = text(body, 'Origin');
      if (origin !== undefined && origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new InvalidParameterError('Origin', 'It must be AWS_KMS or EXTERNAL.');
      if (bool(body, 'MultiRegion')) throw new InvalidParameterError('MultiRegion', 'Multi-Region keys are not supported.');
      refuse(body, ['CustomKeyStoreId', 'XksKeyId']);
      if (text(body, 'Policy') !== undefined) throw new InvalidParameterError('Policy', 'Key policies are not supported: access is governed by the policies of the access keys.');
      return params({ Description: text(body, 'Description', { max: 8192 }), Origin: origin === 'EXTERNAL' ? 'EXTERNAL' : undefined, Tags: tags(body, 'Tags', false) });
    },
    output: (o, c) => ({ KeyMetadata: keyMetadata(o.KeyMetadata as Record<string, string>, c) }),
  },
  {
    target: 'CreateAlias',
    action: 'CreateAlias',
    input: (body, scope) => params({ AliasName: text(body, 'AliasName', { required: true, max: 256 }), KeyId: keyRef(body, scope, 'TargetKeyId') }),
    output: nothing,
  },
  {
    target: 'UpdateAlias',
    action: 'UpdateAlias',
    input: (body, scope) => params({ AliasName: text(body, 'AliasName', { required: true, max: 256 }), KeyId: keyRef(body, scope, 'TargetKeyId') }),
    output: nothing,
  },
  {
    target: 'DeleteAlias',
    action: 'DeleteAlias',
    input: (body) => params({ AliasName: text(body, 'AliasName', { required: true, max: 256 }) }),
    output: nothing,
  },
  ...(['EnableKey', 'DisableKey'] as const).map((target): AwsOperation => ({ target, action: target, input: (body, scope) => params({ KeyId: keyRef(body, scope) }), output: nothing })),
  {
    target: 'ScheduleKeyDeletion',
    action: 'ScheduleKeyDeletion',
    input: (body, scope) => params({ KeyId: keyRef(body, scope), PendingWindowInDays: String(integer(body, 'PendingWindowInDays', 7, 30) ?? 30) }),
    output(_o, c) {
      const days = integer(c.body, 'PendingWindowInDays', 7, 30) ?? 30;
      return { KeyId: awsKeyArn(c, c.authorizedKeyId!), DeletionDate: Math.floor(c.now / 1000) + days * 86_400, KeyState: 'PendingDeletion', PendingWindowInDays: days };
    },
  },
  {
    target: 'CancelKeyDeletion',
    action: 'CancelKeyDeletion',
    input: (body, scope) => params({ KeyId: keyRef(body, scope) }),
    output: (_o, c) => ({ KeyId: awsKeyArn(c, c.authorizedKeyId!) }),
  },
  {
    target: 'TagResource',
    action: 'TagResource',
    input: (body, scope) => params({ KeyId: keyRef(body, scope), Tags: tags(body, 'Tags', true) }),
    output: nothing,
  },
  {
    target: 'UntagResource',
    action: 'UntagResource',
    input(body, scope) {
      const keys = field(body, 'TagKeys');
      if (keys === undefined || keys === null) throw new MissingParameterError('TagKeys');
      if (!Array.isArray(keys)) throw new InvalidParameterError('TagKeys', 'It must be a list of tag keys.');
      return params({ KeyId: keyRef(body, scope), TagKeys: JSON.stringify(keys) });
    },
    output: nothing,
  },
  {
    target: 'ListResourceTags',
    action: 'ListResourceTags',
    input: (body, scope) => {
      tagPage(body);
      return params({ KeyId: keyRef(body, scope) });
    },
    output: (o, c) => {
      const tags = ((o.Tags as { Tag: Array<{ TagKey: string; TagValue: string }> }).Tag ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
      const { offset, limit } = tagPage(c.body);
      const end = offset + limit;
      return end < tags.length ? { Tags: tags.slice(offset, end), Truncated: true, NextMarker: String(end) } : { Tags: tags.slice(offset), Truncated: false };
    },
  },
];

const BY_TARGET: ReadonlyMap<string, AwsOperation> = new Map(AWS_OPERATIONS.map((o) => [o.target, o]));

/** The operation an `X-Amz-Target` header names, or undefined. */
export function awsOperationOf(target: string | undefined): AwsOperation | undefined {
  if (target === undefined || !target.startsWith('TrentService.')) return undefined;
  return BY_TARGET.get(target.slice('TrentService.'.length));
}

/** The Alibaba Action that serves this request of an AWS operation. */
export function servingAction(operation: AwsOperation, body: AwsBody): string {
  return operation.route?.(body) ?? operation.action;
}
