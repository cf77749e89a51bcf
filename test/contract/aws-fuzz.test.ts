import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_OPERATIONS, SECRETS_MANAGER_OPERATIONS } from '../../functions/actions.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { ACCOUNT_ID, ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';
import { STACK_TRACE } from './support.js';

/*
 * Property: whatever JSON an AWS-protocol caller signs, for any operation, the answer is a success
 * or an AWS error body ({"__type", "message"}, 4xx), never a 5xx or a stack trace.
 */

const { runs } = fuzzRuns();

/** Field names the AWS operations read, and some they do not. */
const FIELDS = [
  'KeyId',
  'KeySpec',
  'NumberOfBytes',
  'EncryptionContext',
  'GrantTokens',
  'DryRun',
  'Plaintext',
  'CiphertextBlob',
  'EncryptionAlgorithm',
  'DestinationKeyId',
  'SourceKeyId',
  'SourceEncryptionContext',
  'DestinationEncryptionContext',
  'Description',
  'Origin',
  'KeyUsage',
  'CustomerMasterKeySpec',
  'Tags',
  'TagKeys',
  'AliasName',
  'TargetKeyId',
  'Limit',
  'Marker',
  'PendingWindowInDays',
  'RotationPeriodInDays',
  'Policy',
  'MultiRegion',
  'Message',
  'MessageType',
  'SigningAlgorithm',
  'Signature',
  'MacAlgorithm',
  'Mac',
  'KeyPairSpec',
  '__proto__',
  'constructor',
];

/** Names of the key kinds, algorithms and message types the RSA, EC and HMAC operations read. */
const KEY_KIND_NAMES = [
  'RSA_2048',
  'ECC_NIST_P256',
  'ECC_SECG_P256K1',
  'HMAC_256',
  'SIGN_VERIFY',
  'GENERATE_VERIFY_MAC',
  'ENCRYPT_DECRYPT',
  'RAW',
  'DIGEST',
  'EXTERNAL_MU',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'ECDSA_SHA_256',
  'RSAES_OAEP_SHA_256',
  'RSAES_OAEP_SHA_1',
  'HMAC_SHA_256',
  'SM2',
];

const realBlob = () => fc.constant(Buffer.alloc(200, 1).toString('base64'));
const keyReference = fc.constantFrom(
  KEY_ID,
  OTHER_KEY_ID,
  ALIAS,
  'alias/none',
  `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${KEY_ID}`,
  `arn:aws:kms:eu-west-1:${ACCOUNT_ID}:key/${KEY_ID}`,
  `arn:aws:kms:us-east-1:${ACCOUNT_ID}:alias/test`,
  'arn:aws:kms',
  'arn:aws:kms:us-east-1:1:key',
  `acs:kms:cn-hangzhou:${ACCOUNT_ID}:key/${KEY_ID}`,
  '',
  'a'.repeat(3000),
);
const value = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: keyReference },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 5000 }) },
  { weight: 1, arbitrary: fc.constantFrom('AES_256', 'AES_128', 'SYMMETRIC_DEFAULT', 'EXTERNAL', 'AWS_KMS', TEST_RSA_PUBLIC_KEY_BLOB) },
  { weight: 1, arbitrary: fc.constantFrom(...KEY_KIND_NAMES) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u).toString('base64')) },
  { weight: 1, arbitrary: realBlob() },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer())) },
  {
    weight: 1,
    arbitrary: fc.array(fc.record({ TagKey: fc.string({ maxLength: 10 }), TagValue: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null)) }), {
      maxLength: 3,
    }),
  },
);
const body = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 });

/** The Secrets Manager operations' fields, and values they may meet. */
const SECRETS_FIELDS = [
  'SecretId',
  'Name',
  'SecretString',
  'SecretBinary',
  'ClientRequestToken',
  'VersionId',
  'VersionStage',
  'VersionStages',
  'KmsKeyId',
  'Description',
  'Tags',
  'TagKeys',
  'RecoveryWindowInDays',
  'ForceDeleteWithoutRecovery',
  'MoveToVersionId',
  'RemoveFromVersionId',
  'IncludeDeprecated',
  'IncludePlannedDeletion',
  'MaxResults',
  'NextToken',
  'Filters',
  'SortOrder',
  'SortBy',
  'SecretIdList',
  'AddReplicaRegions',
  '__proto__',
];
const secretReference = fc.constantFrom(
  'fz/a',
  'fz/b',
  'fz/none',
  `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:fz/a`,
  `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:fz/a-abcdef`,
  `acs:kms:cn-hangzhou:${ACCOUNT_ID}:secret/fz/a`,
  'arn:aws:secretsmanager',
  'acs/x',
  '',
  'a'.repeat(3000),
);
const secretsValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 3, arbitrary: secretReference },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'ACSCurrent', 'asc', 'desc', 'name', 'created-date', '1', '0') },
  { weight: 1, arbitrary: fc.string({ minLength: 32, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((v) => `fuzz-value-${v}`) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u).toString('base64')) },
  { weight: 1, arbitrary: keyReference },
  { weight: 1, arbitrary: fc.array(fc.oneof(secretReference, fc.constantFrom('AWSCURRENT', 'x')), { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.record({
        Key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('name', 'all', 'tag-key')),
        Values: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.string()),
        Value: fc.string({ maxLength: 5 }),
      }),
      { maxLength: 3 },
    ),
  },
);
const secretsBody = fc.dictionary(fc.constantFrom(...SECRETS_FIELDS), secretsValue, { maxKeys: 6 });

/** Operations a generated body can make succeed on those keys (a generated signature, MAC or RSA ciphertext never verifies or opens). */
const SUCCEEDS_ON_GENERATED_INPUT = new Set(['Sign', 'GetPublicKey', 'GenerateMac', 'Encrypt', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']);

/** The service's keys of each kind (made in beforeAll), beside the seeded symmetric ones. */
interface KeyKindKeys {
  rsaSign: string;
  rsaEncrypt: string;
  ec: string;
  ecK: string;
  hmac: string;
  /** A symmetric key of its own, which no other operation's fuzz disables or deletes (GenerateDataKeyPair's wrapping key). */
  aes: string;
}

const bytesOf = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const b64 = (data: Uint8Array) => Buffer.from(data).toString('base64');

/**
 * A body that makes sense for one operation of RSA, EC or HMAC keys: a key of the kind it needs
 * with an algorithm that fits, a message or digest of a fitting size, a signature, MAC or ciphertext
 * of a plausible size (which never verifies or opens: those fail as they must). Undefined for the
 * operations that take no such key.
 */
function saneKeyKindBody(target: string, k: KeyKindKeys): fc.Arbitrary<Record<string, unknown>> | undefined {
  switch (target) {
    case 'Sign':
    case 'Verify':
      return fc
        .record({
          pair: fc.constantFrom(
            { KeyId: k.rsaSign, SigningAlgorithm: 'RSASSA_PSS_SHA_256', hash: 'sha256' },
            { KeyId: k.rsaSign, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_384', hash: 'sha384' },
            { KeyId: k.rsaSign, SigningAlgorithm: 'RSASSA_PSS_SHA_512', hash: 'sha512' },
            { KeyId: k.ec, SigningAlgorithm: 'ECDSA_SHA_256', hash: 'sha256' },
            { KeyId: k.ecK, SigningAlgorithm: 'ECDSA_SHA_256', hash: 'sha256' },
          ),
          raw: fc.boolean(),
          message: bytesOf(1, 300),
          signature: fc.oneof(bytesOf(64, 72), bytesOf(256, 256)),
        })
        .map(({ pair: { KeyId, SigningAlgorithm, hash }, raw, message, signature }) => ({
          KeyId,
          SigningAlgorithm,
          MessageType: raw ? 'RAW' : 'DIGEST',
          Message: b64(raw ? message : createHash(hash).update(message).digest()),
          ...(target === 'Verify' ? { Signature: b64(signature) } : {}),
        }));
    case 'GetPublicKey':
      return fc.constantFrom(k.rsaSign, k.rsaEncrypt, k.ec, k.ecK, k.hmac, k.aes).map((KeyId) => ({ KeyId }));
    case 'GenerateMac':
    case 'VerifyMac':
      return fc.record({ message: bytesOf(1, 300), mac: bytesOf(32, 32) }).map(({ message, mac }) => ({
        KeyId: k.hmac,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: b64(message),
        ...(target === 'VerifyMac' ? { Mac: b64(mac) } : {}),
      }));
    case 'Encrypt':
      return fc
        .record({ algorithm: fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'), plaintext: bytesOf(1, 190) })
        .map(({ algorithm, plaintext }) => ({ KeyId: k.rsaEncrypt, EncryptionAlgorithm: algorithm, Plaintext: b64(plaintext) }));
    case 'Decrypt':
      return fc
        .record({ algorithm: fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'), ciphertext: bytesOf(256, 256) })
        .map(({ algorithm, ciphertext }) => ({ KeyId: k.rsaEncrypt, EncryptionAlgorithm: algorithm, CiphertextBlob: b64(ciphertext) }));
    case 'GenerateDataKeyPair':
    case 'GenerateDataKeyPairWithoutPlaintext':
      return fc
        .record({
          // Mostly EC pairs: an RSA pair takes a while to make.
          spec: fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom('ECC_NIST_P256', 'ECC_SECG_P256K1', 'ECC_NIST_P384') },
            { weight: 1, arbitrary: fc.constant('RSA_2048') },
          ),
          context: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
        })
        .map(({ spec, context }) => ({ KeyId: k.aes, KeyPairSpec: spec, EncryptionContext: context }));
    case 'GenerateDataKey':
    case 'GenerateDataKeyWithoutPlaintext':
    case 'ReEncrypt':
    case 'DescribeKey':
      // Symmetric operations on the other kinds of key: refused as the wrong usage (DescribeKey shows them).
      return fc
        .constantFrom(k.rsaSign, k.rsaEncrypt, k.ec, k.hmac)
        .map((KeyId) => (target === 'ReEncrypt' ? { DestinationKeyId: KeyId, CiphertextBlob: b64(Buffer.alloc(200, 1)) } : { KeyId, NumberOfBytes: 32 }));
    default:
      return undefined;
  }
}

/** A sane key-kind body, mostly with one field left out or replaced by anything, or another field added. */
function keyKindBody(sane: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(sane, fc.option(fc.tuple(fc.constantFrom(...FIELDS), value, fc.boolean()), { freq: 3, nil: undefined })).map(([body, change]) => {
    if (!change) return body;
    const [field, replacement, drop] = change;
    const out: Record<string, unknown> = { ...body };
    if (drop && Object.hasOwn(out, field)) delete out[field];
    else out[field] = replacement;
    return out;
  });
}

function expectAwsAnswer(status: number, headers: Record<string, string>, raw: string): void {
  expect(status, raw).toBeLessThan(500);
  expect(raw).not.toMatch(STACK_TRACE);
  expect(headers['content-type']).toBe('application/x-amz-json-1.1');
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  if (status >= 400) {
    expect(Object.keys(parsed).sort()).toEqual(['__type', 'message']);
    expect(parsed.__type).toMatch(/^[A-Za-z]+Exception$/);
  }
}

describe('Property: AWS-protocol requests are answered in AWS form, never with a fault', () => {
  let t: TestService;
  let keys: KeyKindKeys;
  beforeAll(async () => {
    t = await createTestService();
    const create = async (params: Record<string, string>) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'CreateKey', params));
      expect(r.status, r.raw).toBe(200);
      return r.body.KeyMetadata.KeyId as string;
    };
    const [rsaSign, rsaEncrypt, ec, ecK, hmac, aes] = await Promise.all([
      create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' }),
      create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }),
      create({ KeySpec: 'EC_P256' }),
      create({ KeySpec: 'EC_P256K' }),
      create({ KeySpec: 'HMAC_256' }),
      create({}),
    ]);
    keys = { rsaSign: rsaSign!, rsaEncrypt: rsaEncrypt!, ec: ec!, ecK: ecK!, hmac: hmac!, aes: aes! };
  });

  it.each([...AWS_OPERATIONS.keys()])('%s with any signed JSON object, from an admin or a restricted caller', async (target) => {
    let ok = 0;
    const sane = saneKeyKindBody(target, keys);
    const bodies = sane ? fc.oneof(body, keyKindBody(sane)) : body;
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom(ADMIN, CONSUMER), async (json, who) => {
        const r = await t.dispatch(signedAwsRequest(who, target, json));
        expectAwsAnswer(r.statusCode, r.headers, r.body);
        if (r.statusCode === 200) ok++;
      }),
      runs(0xa7500 + target.length, 120),
    );
    // The operations of asymmetric and HMAC keys that a generated body can make succeed get past validation to the cryptography.
    if (SUCCEEDS_ON_GENERATED_INPUT.has(target)) expect(ok, `no ${target} request succeeded`).toBeGreaterThan(0);
  });

  it.each([...SECRETS_MANAGER_OPERATIONS.keys()])('secretsmanager.%s with any signed JSON object, from an admin or a restricted caller', async (target) => {
    // Some secrets to find, by name and by ARN, in each state a request may meet.
    for (const name of ['fz/a', 'fz/b'])
      await t.dispatch(signedAwsRequest(ADMIN, 'CreateSecret', { Name: name, SecretString: 'v' }, { service: 'secretsmanager' }));
    await t.dispatch(signedAwsRequest(ADMIN, 'DeleteSecret', { SecretId: 'fz/b' }, { service: 'secretsmanager' }));
    await fc.assert(
      fc.asyncProperty(secretsBody, fc.constantFrom(ADMIN, CONSUMER), async (json, who) => {
        const r = await t.dispatch(signedAwsRequest(who, target, json, { service: 'secretsmanager' }));
        expectAwsAnswer(r.statusCode, r.headers, r.body);
        // No value reaches an error message (unless another field carried the same text).
        const secret = (json as Record<string, unknown>).SecretString;
        if (r.statusCode !== 200 && typeof secret === 'string' && secret.startsWith('fuzz-value-')) {
          const elsewhere = Object.entries(json).some(([k, v]) => k !== 'SecretString' && JSON.stringify(v ?? null).includes(secret));
          if (!elsewhere) expect(r.body).not.toContain(secret);
        }
      }),
      runs(0x5ec7 + target.length, 120),
    );
  });

  it('any body bytes, any target: an AWS error, never a fault', async () => {
    const targets = fc.oneof(fc.constantFrom(...[...AWS_OPERATIONS.keys()]), fc.string({ maxLength: 20 }));
    const services = fc.constantFrom<'kms' | 'secretsmanager'>('kms', 'secretsmanager');
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)),
      fc.constantFrom('[]', 'null', '1', '"x"', '{"KeyId":', '{"NumberOfBytes":1e400}', '{"KeyId":{"$ne":1}}').map((s) => Buffer.from(s)),
    );
    await fc.assert(
      fc.asyncProperty(targets, services, bytes, async (target, service, payload) => {
        const r = await t.dispatch(signedAwsRequest(ADMIN, target, undefined, { body: payload, service }));
        expectAwsAnswer(r.statusCode, r.headers, r.body);
        // An empty body is {} (some operations need nothing); anything not a JSON object is refused.
        if (payload.length > 0 && !isJsonObject(payload)) expect(r.statusCode).toBeGreaterThanOrEqual(400);
      }),
      runs(0xa7501, 300),
    );
  });
});

function isJsonObject(payload: Buffer): boolean {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
