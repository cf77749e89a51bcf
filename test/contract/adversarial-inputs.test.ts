import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../functions/actions.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { NonceStore } from '../../lib/keystore/nonce-store.js';
import { ADMIN, ALIAS, createTestService, KEY_ID, KEY_VERSION_ID, keyArnOf, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { type Credentials, signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { TEST_RSA_PUBLIC_KEY_BLOB } from '../helpers/rsa.js';
import { expectError } from './support.js';

/**
 * Regression suite for the defects an adversarial run found: each case failed before its fix.
 * The property-based suite (fuzz-parameters.test.ts) covers the same classes with generated input.
 */

type CallResult = Awaited<ReturnType<TestService['call']>>;

/** Signs in, and may call every Action, but on a resource that is none of ours. */
const NOTHING: Credentials = { accessKeyId: 'testNothingAdv1', accessKeySecret: 'nothing-secret-0123456789' };

async function fileBackedService(): Promise<TestService> {
  const t = await createTestService({ store: new FileKeyStore(await mkdtemp(join(tmpdir(), 'kms-adversarial-'))) });
  await t.service.accessKeys.create({
    ...NOTHING,
    status: 'Enabled',
    createdAt: new Date().toISOString(),
    policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: 'acs:kms:*:*:key/none-of-these' }] },
  });
  return t;
}

/** Counts what reaches the nonce store, so a refused request can be shown to have claimed nothing. */
function countClaims(t: TestService): { count: number } {
  const counter = { count: 0 };
  const nonces: NonceStore = t.service.nonces;
  const claim = nonces.claim.bind(nonces);
  t.service.nonces = {
    claim: (...args) => {
      counter.count++;
      return claim(...args);
    },
  };
  return counter;
}

/** A well-formed SHA-256 digest, and 256 bytes shaped like an RSA-2048 signature or ciphertext (Base64). */
const DIGEST = Buffer.alloc(32, 1).toString('base64');
const SIGNATURE = Buffer.alloc(256, 2).toString('base64');

/** Actions with a KeyId-like parameter, and the other parameters that make them valid. */
const KEY_REFERENCE_CASES: Array<[action: string, parameter: string, rest: Record<string, string>]> = [
  ['GenerateDataKey', 'KeyId', {}],
  ['GenerateDataKeyWithoutPlaintext', 'KeyId', {}],
  ['Encrypt', 'KeyId', { Plaintext: 'x' }],
  ['DescribeKey', 'KeyId', {}],
  ['CreateKeyVersion', 'KeyId', {}],
  ['ListKeyVersions', 'KeyId', {}],
  ['UpdateRotationPolicy', 'KeyId', { EnableAutomaticRotation: 'false' }],
  ['EnableKey', 'KeyId', {}],
  ['DisableKey', 'KeyId', {}],
  ['ScheduleKeyDeletion', 'KeyId', { PendingWindowInDays: '7' }],
  ['CancelKeyDeletion', 'KeyId', {}],
  ['CreateAlias', 'KeyId', { AliasName: 'alias/adversarial' }],
  ['ListAliasesByKeyId', 'KeyId', {}],
  ['GetParametersForImport', 'KeyId', { WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }],
  ['DeleteKeyMaterial', 'KeyId', {}],
  ['GenerateAndExportDataKey', 'KeyId', { PublicKeyBlob: TEST_RSA_PUBLIC_KEY_BLOB, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }],
  // The Actions of asymmetric keys: every other parameter well-formed, so the key reference is what is judged.
  ['AsymmetricSign', 'KeyId', { KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSA_PSS_SHA_256', Digest: DIGEST }],
  ['AsymmetricVerify', 'KeyId', { KeyVersionId: KEY_VERSION_ID, Algorithm: 'ECDSA_SHA_256', Digest: DIGEST, Value: SIGNATURE }],
  ['AsymmetricEncrypt', 'KeyId', { KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: Buffer.from('x').toString('base64') }],
  ['AsymmetricDecrypt', 'KeyId', { KeyVersionId: KEY_VERSION_ID, Algorithm: 'RSAES_OAEP_SHA_1', CiphertextBlob: SIGNATURE }],
  ['GetPublicKey', 'KeyId', { KeyVersionId: KEY_VERSION_ID }],
];

describe('Adversarial inputs', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await fileBackedService();
  });

  describe('signed fields are bounded before any work', () => {
    const longNonce = 'n'.repeat(60_000);

    it.each([
      ['a 60,000-character SignatureNonce (RPC, query)', () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: 'n'.repeat(2_000) })],
      [
        'a 60,000-character SignatureNonce (RPC, form body)',
        () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { method: 'POST', form: true, nonce: longNonce }),
      ],
      ['a 129-character SignatureNonce', () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: 'x'.repeat(129) })],
      ['a SignatureNonce with a space', () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: 'a b' })],
      ['a SignatureNonce with a control character', () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: 'a\u0001b' })],
      ['a 10,000-character x-acs-signature-nonce (V3)', () => signedV3Request(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: 'n'.repeat(10_000) })],
      ['a 100-character Timestamp', () => signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { timestamp: `2026-01-01T00:00:00Z${' '.repeat(80)}` })],
      ['a 5,000-character AccessKeyId', () => signedRpcRequest({ ...ADMIN, accessKeyId: 'A'.repeat(5_000) }, 'DescribeKey', { KeyId: KEY_ID })],
      [
        'a 5,000-character Signature',
        () =>
          signedRpcRequest(
            ADMIN,
            'DescribeKey',
            { KeyId: KEY_ID },
            {
              afterSigning: (p) => {
                p.Signature = 'S'.repeat(5_000);
              },
            },
          ),
      ],
    ])('when a request carries %s, it answers 400 IncompleteSignature and remembers nothing', async (_name, build) => {
      const claims = countClaims(t);
      const r = await t.call(build());
      expectError(r, 400, 'IncompleteSignature');
      expect(r.raw.length).toBeLessThan(1_000);
      expect(claims.count).toBe(0);
    });

    it('when a V3 Authorization header names 100 signed headers, it answers 400 IncompleteSignature', async () => {
      const request = signedV3Request(
        ADMIN,
        'DescribeKey',
        { KeyId: KEY_ID },
        {
          afterSigning: (r) => {
            r.headers.authorization = r.headers.authorization!.replace(
              'SignedHeaders=',
              `SignedHeaders=${Array.from({ length: 100 }, (_, i) => `x-h${i}`).join(';')};`,
            );
          },
        },
      );
      expectError(await t.call(request), 400, 'IncompleteSignature');
    });

    it('when a nonce is 128 printable characters, it is accepted (the bound is not below what clients send)', async () => {
      const r = await t.call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { nonce: `${'a'.repeat(120)}-_.~!*()` }));
      expect(r.status, r.raw).toBe(200);
    });
  });

  describe('malformed aliases in a key reference are a 400, for any caller, before authorisation', () => {
    const MALFORMED = [
      'alias/*',
      'alias/a b',
      'alias/',
      'alias/x ',
      'alias/a\u0000b',
      `alias/${'a'.repeat(256)}`,
      'alias/a.b',
      'alias/..',
      `acs:kms:cn-hangzhou:1234567890123456:alias/*`,
      'acs:kms:cn-hangzhou:1234567890123456:alias/',
    ];

    it.each(KEY_REFERENCE_CASES)('%s with a malformed alias in %s answers 400 InvalidParameter', async (action, parameter, rest) => {
      for (const alias of MALFORMED) {
        for (const who of [ADMIN, NOTHING]) {
          const r = await t.call(signedRpcRequest(who, action, { ...rest, [parameter]: alias }));
          expectError(r, 400, 'InvalidParameter', `"${parameter}"`);
        }
      }
    });

    it('ReEncrypt with a malformed DestinationKeyId answers 400 naming DestinationKeyId', async () => {
      const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }))).body.CiphertextBlob;
      expectError(
        await t.call(signedRpcRequest(ADMIN, 'ReEncrypt', { CiphertextBlob: blob, DestinationKeyId: 'alias/*' })),
        400,
        'InvalidParameter',
        '"DestinationKeyId"',
      );
    });

    it('a malformed key reference is a 400 whatever else the request names (checked before any lookup or authorisation)', async () => {
      const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }))).body.CiphertextBlob;
      expectError(await t.call(signedRpcRequest(ADMIN, 'UpdateAlias', { AliasName: 'alias/missing', KeyId: 'alias/*' })), 400, 'InvalidParameter', '"KeyId"');
      expectError(
        await t.call(signedRpcRequest(NOTHING, 'ReEncrypt', { CiphertextBlob: blob, DestinationKeyId: 'alias/*' })),
        400,
        'InvalidParameter',
        '"DestinationKeyId"',
      );
      expectError(
        await t.call(signedRpcRequest(NOTHING, 'DescribeKey', { KeyId: 'acs:kms:cn-hangzhou:1234567890123456:secret/x' })),
        400,
        'InvalidParameter',
        '"KeyId"',
      );
    });

    it('a well-formed alias ARN of another region answers 404, like a key there', async () => {
      expectError(
        await t.call(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: 'acs:kms:us-east-1:1234567890123456:alias/test' })),
        404,
        'Forbidden.KeyNotFound',
      );
    });
  });

  describe('no lookup keyed by caller input finds Object.prototype', () => {
    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
      'KeySpec=%s answers 400 InvalidParameter naming KeySpec',
      async (spec) => {
        for (const action of ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext']) {
          expectError(await t.call(signedRpcRequest(ADMIN, action, { KeyId: KEY_ID, KeySpec: spec })), 400, 'InvalidParameter', '"KeySpec"');
        }
      },
    );

    it.each(['constructor', '__proto__', 'toString'])('a V3 request that signs a header named %s is verified, not crashed', async (name) => {
      const r = await t.call(
        signedV3Request(
          ADMIN,
          'DescribeKey',
          { KeyId: KEY_ID },
          {
            afterSigning: (req) => {
              req.headers.authorization = req.headers.authorization!.replace('SignedHeaders=', `SignedHeaders=${name};`);
            },
          },
        ),
      );
      expectError(r, 400, 'SignatureDoesNotMatch');
    });
  });

  describe('an EncryptionContext binds exactly what was sent, or the request is refused', () => {
    it.each([
      ['a lone high surrogate in a value', '{"a":"\\ud800"}'],
      ['a lone low surrogate in a value', '{"a":"\\udfff"}'],
      ['a lone surrogate in a key', '{"\\udbff":"x"}'],
      ['a reversed pair', '{"a":"\\udc00\\ud800"}'],
      ['a key given twice', '{"a":"1","a":"2"}'],
      ['a key given twice, once escaped', '{"a":"1","\\u0061":"2"}'],
    ])('when the context has %s, GenerateDataKey, Encrypt and Decrypt answer 400 InvalidParameter', async (_name, json) => {
      const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }))).body.CiphertextBlob;
      for (const [action, params] of [
        ['GenerateDataKey', { KeyId: KEY_ID }],
        ['Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }],
        ['Decrypt', { CiphertextBlob: blob }],
      ] as const) {
        for (const sign of [signedRpcRequest, signedV3Request]) {
          expectError(await t.call(sign(ADMIN, action, { ...params, EncryptionContext: json })), 400, 'InvalidParameter', '"EncryptionContext"');
        }
      }
    });

    it('when a valid pair of surrogates (an emoji) and U+FFFD are used, they are distinct contexts', async () => {
      const emoji = await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x', EncryptionContext: '{"a":"\\ud83d\\ude00"}' }));
      expect(emoji.status).toBe(200);
      expect((await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: emoji.body.CiphertextBlob, EncryptionContext: '{"a":"😀"}' }))).status).toBe(
        200,
      );
      expectError(
        await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: emoji.body.CiphertextBlob, EncryptionContext: '{"a":"\\ufffd"}' })),
        400,
        'InvalidCiphertext',
      );
    });

    it.each(['__proto__', 'constructor', 'toString', 'prototype'])('when a flattened pair is keyed %s, it is bound: Decrypt needs it', async (key) => {
      const g = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, [`EncryptionContext.${key}`]: 'x' }));
      expect(g.status, g.raw).toBe(200);
      expectError(await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob })), 400, 'InvalidCiphertext');
      expectError(
        await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: '{}' })),
        400,
        'InvalidCiphertext',
      );
      const back = await t.call(
        signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: JSON.stringify({ [key]: 'x' }) }),
      );
      expect(back.body.Plaintext).toBe(g.body.Plaintext);
      const flat = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob, [`EncryptionContext.${key}`]: 'x' }));
      expect(flat.body.Plaintext).toBe(g.body.Plaintext);
    });
  });

  describe('a Format=XML answer is always valid XML', () => {
    it.each(['a\u0001b', 'x\u0000', '\uffff', '\u001b[31m'])(
      'when a Description holds %j, CreateKey refuses it with 400 (nothing is created)',
      async (description) => {
        const before = (await t.service.keyring.listKeyIds()).length;
        expectError(await t.call(signedRpcRequest(ADMIN, 'CreateKey', { Description: description })), 400, 'InvalidParameter', '"Description"');
        expect((await t.service.keyring.listKeyIds()).length).toBe(before);
      },
    );

    it('when a decrypted plaintext holds a control character, Format=XML answers 400 naming Format, and JSON carries it', async () => {
      const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'bell\u0007' }))).body.CiphertextBlob;
      const xml = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob }, { format: 'XML' }));
      expect(xml.status).toBe(400);
      expect(xml.raw).toContain('<Code>InvalidParameter</Code>');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the answer must carry none of these control characters
      expect(xml.raw).not.toMatch(/[\u0000-\u0008]/);
      expect((await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob }))).body.Plaintext).toBe('bell\u0007');
    });
  });

  describe('how a body is read is decided by what was signed', () => {
    const formBody = (context: Record<string, string>) => Buffer.from(`EncryptionContext=${encodeURIComponent(JSON.stringify(context))}`);

    it('when a V3 form body is sent with content-type changed to text/plain after signing, it answers 415 and binds nothing', async () => {
      const request = signedV3Request(
        ADMIN,
        'GenerateDataKey',
        { KeyId: KEY_ID },
        {
          body: formBody({ tenant: 'acme' }),
          contentType: 'application/x-www-form-urlencoded',
          unsigned: ['content-type'],
          afterSigning: (r) => {
            r.headers['content-type'] = 'text/plain';
          },
        },
      );
      const r = await t.call(request);
      expectError(r, 415, 'UnsupportedMediaType');
      expect(r.body.CiphertextBlob).toBeUndefined();
    });

    it('when a V3 form body is sent with content-type unsigned but unchanged, its context is bound', async () => {
      const r = await t.call(
        signedV3Request(
          ADMIN,
          'GenerateDataKey',
          { KeyId: KEY_ID },
          { body: formBody({ tenant: 'acme' }), contentType: 'application/x-www-form-urlencoded', unsigned: ['content-type'] },
        ),
      );
      expect(r.status, r.raw).toBe(200);
      expectError(await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: r.body.CiphertextBlob })), 400, 'InvalidCiphertext');
      expect((await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: r.body.CiphertextBlob, EncryptionContext: '{"tenant":"acme"}' }))).status).toBe(
        200,
      );
    });

    it.each([undefined, 'application/json', 'multipart/form-data; boundary=x'])('when a V3 body has content-type %s, it answers 415', async (type) => {
      const r = await t.call(
        signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { body: formBody({ a: 'b' }), ...(type ? { contentType: type } : {}) }),
      );
      expectError(r, 415, 'UnsupportedMediaType');
    });
  });

  describe('a caller without permission learns nothing about keys and aliases', () => {
    const same = (a: CallResult, b: CallResult) => {
      expect({ status: a.status, code: a.body.Code }).toEqual({ status: b.status, code: b.body.Code });
    };

    it.each(KEY_REFERENCE_CASES)(
      '%s: an existing and a missing key id answer alike (403), naming only what the caller sent',
      async (action, parameter, rest) => {
        const existing = await t.call(signedRpcRequest(NOTHING, action, { ...rest, [parameter]: OTHER_KEY_ID }));
        const missing = await t.call(signedRpcRequest(NOTHING, action, { ...rest, [parameter]: randomUUID() }));
        expectError(existing, 403, 'Forbidden.NoPermission', keyArnOf(OTHER_KEY_ID));
        same(existing, missing);
      },
    );

    it.each(KEY_REFERENCE_CASES)(
      '%s: an existing and a missing alias answer alike (404), and the key behind it is never named',
      async (action, parameter, rest) => {
        const existing = await t.call(signedRpcRequest(NOTHING, action, { ...rest, [parameter]: ALIAS }));
        const missing = await t.call(signedRpcRequest(NOTHING, action, { ...rest, [parameter]: 'alias/never-created' }));
        expectError(existing, 404, 'Forbidden.AliasNotFound');
        same(existing, missing);
        expect(existing.body.Message.replace(ALIAS, 'X')).toBe(missing.body.Message.replace('alias/never-created', 'X'));
        expect(existing.raw).not.toContain(KEY_ID);
      },
    );

    it.each(['DeleteAlias', 'UpdateAlias'])('%s: an existing and a missing alias answer alike, and the alias is unchanged', async (action) => {
      const params = (alias: string): Record<string, string> => (action === 'UpdateAlias' ? { AliasName: alias, KeyId: OTHER_KEY_ID } : { AliasName: alias });
      const existing = await t.call(signedRpcRequest(NOTHING, action, params(ALIAS)));
      const missing = await t.call(signedRpcRequest(NOTHING, action, params('alias/never-created')));
      expectError(existing, 404, 'Forbidden.AliasNotFound');
      same(existing, missing);
      expect(existing.raw).not.toContain(KEY_ID);
      expect((await t.service.keyring.readAlias(ALIAS))?.keyId).toBe(KEY_ID);
    });

    it('Decrypt of a blob under a key the caller may not use names the blob’s version, never its key', async () => {
      const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }))).body.CiphertextBlob;
      const r = await t.call(signedRpcRequest(NOTHING, 'Decrypt', { CiphertextBlob: blob }));
      expectError(r, 403, 'Forbidden.NoPermission');
      expect(r.raw).not.toContain(KEY_ID);
    });

    /** The Actions only the AWS API serves, with a body that is valid but for whose key it names. */
    const AWS_ONLY_CASES: Array<[target: string, body: Record<string, string>]> = [
      ['GenerateMac', { Message: Buffer.from('m').toString('base64'), MacAlgorithm: 'HMAC_SHA_256' }],
      ['VerifyMac', { Message: Buffer.from('m').toString('base64'), MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32).toString('base64') }],
      ['GenerateDataKeyPair', { KeyPairSpec: 'ECC_NIST_P256' }],
      ['GenerateDataKeyPairWithoutPlaintext', { KeyPairSpec: 'RSA_2048' }],
    ];

    it.each(AWS_ONLY_CASES)(
      '%s (AWS only): an existing and a missing key answer alike (AccessDeniedException), naming only what the caller sent',
      async (target, body) => {
        const answer = async (keyId: string) => {
          const r = await t.dispatch(signedAwsRequest(NOTHING, target, { ...body, KeyId: keyId }));
          return { status: r.statusCode, type: (JSON.parse(r.body) as { __type: string }).__type, raw: r.body };
        };
        const missingId = randomUUID();
        const [existing, missing] = [await answer(OTHER_KEY_ID), await answer(missingId)];
        expect({ status: existing.status, type: existing.type }).toEqual({ status: 400, type: 'AccessDeniedException' });
        expect({ status: missing.status, type: missing.type }).toEqual({ status: existing.status, type: existing.type });
        expect(missing.raw.replace(missingId, 'X')).toBe(existing.raw.replace(OTHER_KEY_ID, 'X'));
        expect(existing.raw).not.toContain(KEY_ID);
      },
    );

    it('every Action in the table was exercised by a denied caller somewhere in this suite or the policy-coverage suite', () => {
      const covered = new Set([
        ...KEY_REFERENCE_CASES.map(([a]) => a),
        ...AWS_ONLY_CASES.map(([a]) => a),
        'DeleteAlias',
        'UpdateAlias',
        'Decrypt',
        'ReEncrypt',
        'CreateKey',
        'ListKeys',
        'ListAliases',
        'DescribeKeyVersion',
        'GetRandomPassword',
        'DescribeRegions',
        'DescribeService',
        'UpdateKeyDescription',
        'SetDeletionProtection',
        'TagResource',
        'UntagResource',
        'ListResourceTags',
        'ExportDataKey',
        'ImportKeyMaterial',
        'GenerateRandom',
        // Their denied callers: test/contract/audit-events.test.ts, test/contract/describe-access-key.test.ts.
        'ListAuditEvents',
        'DescribeAccessKey',
        // Their denied callers, existing secret or not: test/contract/secrets-alibaba.test.ts (and the policy-coverage suite).
        'CreateSecret',
        'GetSecretValue',
        'PutSecretValue',
        'DescribeSecret',
        'ListSecrets',
        'ListSecretVersionIds',
        'UpdateSecret',
        'UpdateSecretVersionStage',
        'DeleteSecret',
        'RestoreSecret',
        // Its denied callers: test/contract/secrets-aws.test.ts.
        'BatchGetSecretValue',
      ]);
      expect(ACTIONS.map((a) => a.action).filter((a) => !covered.has(a))).toEqual([]);
    });
  });
});
