import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_OPERATIONS } from '../../functions/actions.js';
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

/**
 * A body for the operations of RSA, EC and HMAC keys that mostly makes sense: one of the service's
 * keys of those kinds (or a symmetric one), an algorithm, a message or digest and a signature or
 * MAC of fitting sizes; each field maybe left out or replaced by anything.
 */
function keyKindBody(keyIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u).toString('base64'));
  const field = (sane: fc.Arbitrary<unknown>) =>
    fc.option(fc.oneof({ weight: 4, arbitrary: sane }, { weight: 1, arbitrary: value }), { freq: 5, nil: undefined });
  return fc
    .record({
      KeyId: field(fc.constantFrom(...keyIds, KEY_ID)),
      Message: field(fc.oneof(bytes(0, 64), bytes(32, 32), bytes(48, 48), bytes(4096, 4097))),
      MessageType: field(fc.constantFrom('RAW', 'DIGEST', 'EXTERNAL_MU', 'raw')),
      SigningAlgorithm: field(
        fc.constantFrom('RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'ECDSA_SHA_256', 'ECDSA_SHA_512', 'RSA_PSS_SHA_256', 'SM2DSA'),
      ),
      Signature: field(fc.oneof(bytes(0, 8), bytes(64, 72), bytes(256, 256))),
      MacAlgorithm: field(fc.constantFrom('HMAC_SHA_256', 'HMAC_SHA_512', 'HMAC_SHA_1')),
      Mac: field(fc.oneof(bytes(32, 32), bytes(0, 70))),
      EncryptionAlgorithm: field(fc.constantFrom('RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SYMMETRIC_DEFAULT', 'RSAES_PKCS1_V1_5', 'SM2PKE')),
      Plaintext: field(fc.oneof(bytes(1, 190), bytes(191, 300))),
      CiphertextBlob: field(fc.oneof(bytes(256, 256), bytes(1, 300))),
      KeyPairSpec: field(
        fc.constantFrom('RSA_2048', 'ECC_NIST_P256', 'ECC_SECG_P256K1', 'ECC_NIST_P521', 'SM2', 'ECC_NIST_EDWARDS25519', 'ML_KEM_768', 'HMAC_256'),
      ),
      EncryptionContext: field(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
    })
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)));
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
  /** RSA (signing and encryption), EC and HMAC keys, beside the seeded symmetric ones. */
  let keyKindIds: string[];
  beforeAll(async () => {
    t = await createTestService();
    const create = async (params: Record<string, string>) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'CreateKey', params));
      expect(r.status, r.raw).toBe(200);
      return r.body.KeyMetadata.KeyId as string;
    };
    keyKindIds = await Promise.all([
      create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' }),
      create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }),
      create({ KeySpec: 'EC_P256' }),
      create({ KeySpec: 'EC_P256K' }),
      create({ KeySpec: 'HMAC_256' }),
    ]);
  });

  it.each([...AWS_OPERATIONS.keys()])('%s with any signed JSON object, from an admin or a restricted caller', async (target) => {
    let ok = 0;
    const bodies = fc.oneof(body, keyKindBody(keyKindIds));
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom(ADMIN, CONSUMER), async (json, who) => {
        const r = await t.dispatch(signedAwsRequest(who, target, json));
        expectAwsAnswer(r.statusCode, r.headers, r.body);
        if (r.statusCode === 200) ok++;
      }),
      runs(0xa7500 + target.length, 120),
    );
    void ok;
  });

  it('any body bytes, any target: an AWS error, never a fault', async () => {
    const targets = fc.oneof(fc.constantFrom(...[...AWS_OPERATIONS.keys()]), fc.string({ maxLength: 20 }));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)),
      fc.constantFrom('[]', 'null', '1', '"x"', '{"KeyId":', '{"NumberOfBytes":1e400}', '{"KeyId":{"$ne":1}}').map((s) => Buffer.from(s)),
    );
    await fc.assert(
      fc.asyncProperty(targets, bytes, async (target, payload) => {
        const r = await t.dispatch(signedAwsRequest(ADMIN, target, undefined, { body: payload }));
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
