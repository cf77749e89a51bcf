import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_OPERATIONS } from '../../functions/actions.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { ACCOUNT_ID, ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { signedAwsRequest } from '../helpers/sign.js';
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
  'KeyPairSpec',
  '__proto__',
  'constructor',
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
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'AES_256',
      'AES_128',
      'SYMMETRIC_DEFAULT',
      'RSAES_OAEP_SHA_256',
      'RSAES_OAEP_SHA_1',
      'ECC_NIST_P256',
      'RSA_2048',
      'SM2',
      'EXTERNAL',
      'AWS_KMS',
      TEST_RSA_PUBLIC_KEY_BLOB,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('RAW', 'DIGEST', 'EXTERNAL_MU', 'ECDSA_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_512') },
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
  beforeAll(async () => {
    t = await createTestService();
  });

  it.each([...AWS_OPERATIONS.keys()])('%s with any signed JSON object, from an admin or a restricted caller', async (target) => {
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(ADMIN, CONSUMER), async (json, who) => {
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
