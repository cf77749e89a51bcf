import { randomBytes } from 'node:crypto';
import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { KEY_SPEC_INFO, KEY_SPECS, type KeySpec, type KeyUsage, specOfAwsName } from '../lib/crypto/key-spec.js';
import { InvalidParameterError, UnsupportedKeySpecError } from '../lib/errors.js';
import { DEFAULT_ROTATION_SECONDS, parseRotationInterval } from '../lib/keyring/rotation.js';
import { defineAction } from '../lib/action.js';
import { keyMetadata, type KeyMetadataView } from '../lib/operations/key-metadata.js';
import { parseTags, tagsOfList } from '../lib/operations/tags.js';
import { booleanParameter, jsonTextParameter, storedTextParameter } from '../lib/protocol/alibaba/schema.js';
import { bool, list, refuse, storedText, text } from '../lib/protocol/aws/fields.js';
import { awsKeyMetadata } from '../lib/protocol/aws/shapes.js';

type CreateKeyInput = {
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  Description: string | undefined;
  /** Origin EXTERNAL: the key waits for imported material. */
  external: boolean;
  /** Automatic rotation's interval in seconds; none: no automatic rotation. */
  rotationInterval: number | undefined;
  tags: Array<[string, string]>;
};
type CreateKeyOutput = { KeyMetadata: KeyMetadataView };

const only = (value: string) => z.optional(z.literal(value, { error: `Only ${value} is supported.` }));

/** Specs the references list that this service does not make, and why (docs/api.md says the same). */
const REFUSED_SPECS: Readonly<Record<string, string>> = {
  Aliyun_SM4: 'SM4 keys live in Alibaba’s managed HSMs in mainland China; this service does not make them.',
  EC_SM2:
    'SM2 is not supported: Node’s crypto cannot sign with the SM2 distinguishing identifier (GB/T 32918), so SM2DSA signatures would not verify elsewhere.',
  SM2: 'SM2 is not supported: Node’s crypto cannot sign with the SM2 distinguishing identifier (GB/T 32918), so SM2DSA signatures would not verify elsewhere.',
  ECC_NIST_EDWARDS25519: 'Ed25519 keys are not supported.',
};
const refusedReason = (spec: string) => REFUSED_SPECS[spec] ?? (/^ML_(DSA|KEM)_/.test(spec) ? 'Post-quantum keys are not supported.' : undefined);

/** A spec and usage that belong together: an EC key signs, an HMAC key makes MACs, an RSA key either signs or encrypts. */
function checkSpecUsage(spec: KeySpec, usage: KeyUsage, usageParameter: string): void {
  const info = KEY_SPEC_INFO[spec];
  if (!info.usages.includes(usage)) {
    throw new InvalidParameterError(usageParameter, `A ${spec} key cannot have this usage; it can be ${info.usages.join(' or ')}.`);
  }
}

/**
 * Only symmetric keys take imported material or rotate automatically: "KMS does not support
 * automatic rotation of asymmetric CMKs due to the limits of public and private keys" (Alibaba),
 * and AWS rotates neither asymmetric nor HMAC keys.
 */
function checkSymmetricOnly(spec: KeySpec, external: boolean, rotation: boolean): void {
  if (spec === 'Aliyun_AES_256') return;
  if (external) throw new UnsupportedKeySpecError('Origin', `Imported (EXTERNAL) material is for symmetric keys only, not ${spec}.`);
  if (rotation)
    throw new InvalidParameterError('EnableAutomaticRotation', `A ${spec} key cannot rotate automatically; make a new version with CreateKeyVersion.`);
}

const ALIBABA_USAGES: Readonly<Record<string, KeyUsage>> = {
  'ENCRYPT/DECRYPT': 'ENCRYPT/DECRYPT',
  'SIGN/VERIFY': 'SIGN/VERIFY',
  GENERATE_VERIFY_MAC: 'GENERATE_VERIFY_MAC',
};
const AWS_USAGES: Readonly<Record<string, KeyUsage>> = {
  ENCRYPT_DECRYPT: 'ENCRYPT/DECRYPT',
  SIGN_VERIFY: 'SIGN/VERIFY',
  GENERATE_VERIFY_MAC: 'GENERATE_VERIFY_MAC',
};

/** Alibaba's KeySpec: its own names, and (ours) the RSA_4096, EC_P384, EC_P521 and HMAC_* keys AWS makes. */
function alibabaKeySpec(value: string | undefined): KeySpec {
  if (value === undefined) return 'Aliyun_AES_256';
  if ((KEY_SPECS as readonly string[]).includes(value)) return value as KeySpec;
  const refused = refusedReason(value);
  if (refused) throw new UnsupportedKeySpecError('KeySpec', refused);
  throw new InvalidParameterError('KeySpec', `It must be one of ${KEY_SPECS.join(', ')}.`);
}

/**
 * Alibaba's KeyUsage default: SIGN/VERIFY where the spec can sign (so RSA_2048 alone is a signing
 * key, as on Alibaba), GENERATE_VERIFY_MAC for an HMAC key, else ENCRYPT/DECRYPT.
 */
function alibabaKeyUsage(spec: KeySpec, value: string | undefined): KeyUsage {
  if (value === undefined) return KEY_SPEC_INFO[spec].usages[0]!;
  const usage = ALIBABA_USAGES[value];
  if (!usage) throw new InvalidParameterError('KeyUsage', 'It must be ENCRYPT/DECRYPT or SIGN/VERIFY (GENERATE_VERIFY_MAC for an HMAC key).');
  return usage;
}

/** AWS's KeySpec (or its deprecated alias CustomerMasterKeySpec; both given must agree). */
function awsKeySpec(body: Record<string, unknown>): KeySpec {
  const given = (['KeySpec', 'CustomerMasterKeySpec'] as const).map((name) => [name, text(body, name)] as const).filter(([, v]) => v !== undefined);
  if (given.length === 2 && given[0]![1] !== given[1]![1])
    throw new InvalidParameterError('CustomerMasterKeySpec', 'It must equal KeySpec when both are given.');
  if (given.length === 0) return 'Aliyun_AES_256';
  const [name, value] = given[0]!;
  const spec = specOfAwsName(value!);
  if (spec) return spec;
  const refused = refusedReason(value!);
  if (refused) throw new UnsupportedKeySpecError(name, refused);
  throw new InvalidParameterError(name, `It must be one of ${KEY_SPECS.map((s) => KEY_SPEC_INFO[s].awsName).join(', ')}.`);
}

/** AWS's KeyUsage: ENCRYPT_DECRYPT when absent, whatever the spec (so an ECC or HMAC key must say its usage, as on AWS). */
function awsKeyUsage(value: string | undefined): KeyUsage {
  if (value === undefined) return 'ENCRYPT/DECRYPT';
  const usage = AWS_USAGES[value];
  if (usage) return usage;
  if (value === 'KEY_AGREEMENT') throw new UnsupportedKeySpecError('KeyUsage', 'Key agreement keys are not supported.');
  throw new InvalidParameterError('KeyUsage', 'It must be ENCRYPT_DECRYPT, SIGN_VERIFY or GENERATE_VERIFY_MAC.');
}

/** A new key id in Alibaba's current form: `key-` and 24 lower-case letters and digits. */
function newKeyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `key-${[...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * CreateKey: a key of `KeySpec` (symmetric `Aliyun_AES_256` by default; RSA and EC key pairs, HMAC
 * keys) with one new version, and the `Tags` given (the rules of TagResource). With `Origin=EXTERNAL` (bring your own key) the key has no material and
 * is PendingImport until ImportKeyMaterial. Authorised as `kms:CreateKey` on `*` (no key exists
 * yet to name).
 */
export const action = defineAction({
  name: 'CreateKey',
  group: 'write',
  store: 'creates-material',
  alibaba: {
    params: z.pipe(
      z.object({
        KeySpec: z.optional(z.string()),
        KeyUsage: z.optional(z.string()),
        Origin: z.optional(z.enum(['Aliyun_KMS', 'EXTERNAL'], { error: 'It must be Aliyun_KMS or EXTERNAL.' })),
        ProtectionLevel: only('SOFTWARE'),
        Description: z.optional(storedTextParameter(8192)),
        EnableAutomaticRotation: z.optional(booleanParameter),
        RotationInterval: z.optional(z.string()),
        Tags: z.optional(jsonTextParameter),
        DryRun: z.optional(booleanParameter),
      }),
      z.transform((params): CreateKeyInput => {
        // Imported material is the caller's: it is never rotated here (a new key is the rotation).
        if (params.Origin === 'EXTERNAL' && params.EnableAutomaticRotation) {
          throw new InvalidParameterError('EnableAutomaticRotation', 'A key with Origin EXTERNAL cannot rotate automatically.');
        }
        const keySpec = alibabaKeySpec(params.KeySpec);
        const keyUsage = alibabaKeyUsage(keySpec, params.KeyUsage);
        checkSpecUsage(keySpec, keyUsage, 'KeyUsage');
        checkSymmetricOnly(keySpec, params.Origin === 'EXTERNAL', params.EnableAutomaticRotation === true);
        // Validated even when rotation stays off, so a bad value is never silently accepted.
        const seconds = params.RotationInterval === undefined ? undefined : parseRotationInterval(params.RotationInterval);
        return {
          keySpec,
          keyUsage,
          Description: params.Description,
          external: params.Origin === 'EXTERNAL',
          rotationInterval: params.EnableAutomaticRotation ? (seconds ?? DEFAULT_ROTATION_SECONDS) : undefined,
          tags: params.Tags === undefined ? [] : parseTags(params.Tags),
        };
      }),
    ),
  },
  aws: [
    {
      target: 'CreateKey',
      input(body): CreateKeyInput {
        const keySpec = awsKeySpec(body);
        const keyUsage = awsKeyUsage(text(body, 'KeyUsage'));
        checkSpecUsage(keySpec, keyUsage, 'KeyUsage');
        const origin = text(body, 'Origin');
        if (origin !== undefined && origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new InvalidParameterError('Origin', 'It must be AWS_KMS or EXTERNAL.');
        checkSymmetricOnly(keySpec, origin === 'EXTERNAL', false);
        if (bool(body, 'MultiRegion')) throw new InvalidParameterError('MultiRegion', 'Multi-Region keys are not supported.');
        refuse(body, ['CustomKeyStoreId', 'XksKeyId']);
        if (text(body, 'Policy') !== undefined)
          throw new InvalidParameterError('Policy', 'Key policies are not supported: access is governed by the policies of the access keys.');
        const description = storedText(body, 'Description', 8192);
        const tags = list(body, 'Tags', false, '{"TagKey", "TagValue"}');
        return {
          keySpec,
          keyUsage,
          Description: description,
          external: origin === 'EXTERNAL',
          rotationInterval: undefined,
          tags: tags === undefined ? [] : tagsOfList(tags),
        };
      },
      output: (o: CreateKeyOutput, c) => ({ KeyMetadata: awsKeyMetadata(o.KeyMetadata, c) }),
    },
  ],
  async resolve(input, context) {
    // kms:tag/<TagKey> conditions see the tags the new key is to carry.
    context.authorize('*', undefined, undefined, { resourceTags: new Map(input.tags) });
  },
  async execute(input, _resolved, context): Promise<CreateKeyOutput> {
    const { keyring } = context.service;
    const record = await keyring.createKey({
      keyId: newKeyId(),
      description: input.Description,
      creator: keyring.scope.accountId,
      rotationInterval: input.rotationInterval,
      tags: input.tags,
      external: input.external,
      keySpec: input.keySpec,
      keyUsage: input.keyUsage,
    });
    return { KeyMetadata: keyMetadata({ ...record, arn: keyring.arnOf(record.keyId) }) };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
