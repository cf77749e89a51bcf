import * as z from '../../zod.js';
import { InvalidParameterError } from '../../errors.js';
import type { SecretValue, SecretVersionView, SecretView } from '../../secrets/secret-store.js';
import { spelledStage } from '../../secrets/stages.js';

/*
 * The Alibaba secrets Actions' parameters, and how they answer a secret (stages in Alibaba's
 * spelling, tags, values, times).
 */

export const alibabaStages = (labels: readonly string[]): { VersionStage: string[] } => ({ VersionStage: labels.map((l) => spelledStage(l, 'alibaba')) });

export const alibabaTags = (tags: ReadonlyArray<[string, string]>): { Tag: Array<{ TagKey: string; TagValue: string }> } => ({
  Tag: tags.map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
});

/** A version's value as Alibaba shows it: the text, or the Base64 of the bytes. */
export function secretDataOf(version: SecretVersionView, value: Buffer): string {
  return version.type === 'binary' ? value.toString('base64') : value.toString('utf8');
}

export function createTimeOf(secret: SecretView): { CreateTime: string; UpdateTime: string } {
  // Stored as `yyyy-MM-ddTHH:mm:ssZ`, as Alibaba answers times.
  return { CreateTime: secret.createdAt, UpdateTime: secret.updatedAt };
}

// ---- parameters ----

/** `SecretName`: a name or an ARN (checked by the store's reference rules). */
export const secretNameParameter = z
  .string()
  .check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(2048, { error: 'It must be at most 2,048 characters.' }));

export const versionIdParameter = z
  .string()
  .check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(64, { error: 'It must be at most 64 characters.' }));

/** Alibaba's limit on `SecretData`. */
export const MAX_SECRET_DATA_BYTES = 30_720;

export const secretDataTypeParameter = z.optional(z.enum(['text', 'binary'], { error: 'It must be text or binary.' }));

/**
 * `SecretData` and `SecretDataType` as a value: text as its UTF-8 bytes; binary as the bytes of
 * its Base64, which must be canonical (what Buffer writes back for those bytes).
 */
export function secretValueOf(data: string, type: 'text' | 'binary' | undefined): SecretValue {
  if (Buffer.byteLength(data, 'utf8') > MAX_SECRET_DATA_BYTES) {
    throw new InvalidParameterError('SecretData', `It must be at most ${MAX_SECRET_DATA_BYTES.toLocaleString('en-US')} bytes.`);
  }
  if (type === 'binary') {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length === 0 || bytes.toString('base64') !== data) {
      throw new InvalidParameterError('SecretData', 'With SecretDataType binary it must be canonical Base64 of at least one byte.');
    }
    return { type: 'binary', bytes };
  }
  return { type: 'text', bytes: Buffer.from(data, 'utf8') };
}

export const secretDataParameter = z
  .string()
  .check(
    z.minLength(1, { error: 'It must not be empty.' }),
    z.maxLength(MAX_SECRET_DATA_BYTES, { error: `It must be at most ${MAX_SECRET_DATA_BYTES.toLocaleString('en-US')} bytes.` }),
  );

const STAGES_TEXT = 'It must be a JSON list of stage names (["ACSCurrent", "…"]) or {"VersionStage": [...]}.';

/** `VersionStages`: a JSON list of labels, or `{"VersionStage": [...]}` (the older documented form); 1–20 labels. */
export function parseVersionStages(text: string, parameter = 'VersionStages'): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidParameterError(parameter, STAGES_TEXT);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== 'VersionStage') throw new InvalidParameterError(parameter, STAGES_TEXT);
    value = (value as { VersionStage: unknown }).VersionStage;
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > 20 || !value.every((v) => typeof v === 'string')) {
    throw new InvalidParameterError(parameter, STAGES_TEXT);
  }
  return value as string[];
}

/** The parameters of managed secrets (RDS, Redis, PolarDB, RAM, ECS), refused: this service keeps Generic secrets only. */
export const managedSecretParameters = {
  SecretType: z.optional(
    z.string().check(
      z.refine((v) => v === 'Generic', {
        error: 'Only Generic secrets are served: managed secrets rotate credentials inside cloud services this KMS cannot reach.',
      }),
    ),
  ),
  EnableAutomaticRotation: z.optional(
    z.string().check(z.regex(/^false$/i, { error: 'Automatic rotation is for managed secrets; rotate a Generic secret with PutSecretValue.' })),
  ),
  RotationInterval: z.optional(
    z.string().check(z.refine(() => false, { error: 'Rotation is for managed secrets; rotate a Generic secret with PutSecretValue.' })),
  ),
  ExtendedConfig: z.optional(z.string().check(z.refine(() => false, { error: 'ExtendedConfig is for managed secrets; only Generic secrets are served.' }))),
  Policy: z.optional(z.string().check(z.refine(() => false, { error: 'Secret policies are not served; authorise with access key policies.' }))),
  DKMSInstanceId: z.optional(z.string().check(z.refine(() => false, { error: 'KMS instances are not served.' }))),
};
