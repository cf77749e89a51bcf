import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { ALBEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { applySeed, SeedError } from '../../lib/seed.js';
import { fromLambdaEvent } from '../../lib/adapters/aws-lambda.js';
import { fromNodeRequest } from '../../lib/adapters/node-http.js';
import { InvalidPolicyError, type PolicyDocument } from '../../lib/policy/policy.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { ADMIN, ALIAS, createTestService, KEY_ID, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError } from './support.js';

/** Access keys made for this suite; each test's policy is set on them as needed. */
const ORDERS_CONSUMER: Credentials = { accessKeyId: 'condOrders001', accessKeySecret: 'cond-orders-secret-0123456789' };
const ORDERS_PROVIDER: Credentials = { accessKeyId: 'condProvider01', accessKeySecret: 'cond-provider-secret-0123456789' };
const NETWORK: Credentials = { accessKeyId: 'condNetwork001', accessKeySecret: 'cond-network-secret-0123456789' };

const policyOf = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({ Version: '1', Statement });
const ORDERS_ONLY = { StringLike: { 'kms:EncryptionContext:partition': ['orders-*'] } };

describe('Authorization: policy conditions against the real dispatcher', () => {
  let t: TestService;
  const blobs: Record<'orders' | 'billing' | 'none', string> = { orders: '', billing: '', none: '' };
  const as = (who: Credentials, action: string, params: Record<string, string>, extra: Partial<RpcRequest> = {}) =>
    t.call({ ...signedRpcRequest(who, action, params), ...extra });
  const setPolicy = (who: Credentials, policy: PolicyDocument) => t.service.accessKeys.setPolicy(who.accessKeyId, policy);

  beforeAll(async () => {
    // setPolicy goes through the service's own registry, which refreshes its cache: no wait needed.
    t = await createTestService();
    for (const credentials of [ORDERS_CONSUMER, ORDERS_PROVIDER, NETWORK]) {
      await t.service.accessKeys.create({
        ...credentials,
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: policyOf({ Effect: 'Deny', Action: '*', Resource: '*' }),
      });
    }
    await setPolicy(ORDERS_CONSUMER, policyOf({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'acs:kms:*:*:key/*', Condition: ORDERS_ONLY }));
    const encrypt = async (context?: Record<string, string>) => {
      const r = await as(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'secret', ...(context ? { EncryptionContext: JSON.stringify(context) } : {}) });
      expect(r.status, r.raw).toBe(200);
      return r.body.CiphertextBlob as string;
    };
    blobs.orders = await encrypt({ partition: 'orders-1' });
    blobs.billing = await encrypt({ partition: 'billing-1' });
    blobs.none = await encrypt();
  });

  const expectDenied = (r: Awaited<ReturnType<TestService['call']>>, action: string) => {
    expectError(r, 403, 'Forbidden.NoPermission', `kms:${action}`);
    expect(r.body.Plaintext).toBeUndefined();
    expect(r.body.CiphertextBlob).toBeUndefined();
  };

  describe('kms:EncryptionContext:partition with StringLike ["orders-*"] on Decrypt', () => {
    it('when the consumer decrypts an orders-1 blob with its context, it gets the plaintext', async () => {
      const r = await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.orders, EncryptionContext: '{"partition":"orders-1"}' });
      expect(r.status, r.raw).toBe(200);
      expect(r.body.Plaintext).toBe('secret');
    });

    it('when the request is ACS3-signed, or the context is sent flattened, the condition reads it the same way', async () => {
      const v3 = await t.call(signedV3Request(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.orders, EncryptionContext: '{"partition":"orders-1"}' }));
      expect(v3.status, v3.raw).toBe(200);
      const flat = await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.orders, 'EncryptionContext.partition': 'orders-1' });
      expect(flat.status, flat.raw).toBe(200);
      expectDenied(
        await t.call(signedV3Request(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.billing, EncryptionContext: '{"partition":"billing-1"}' })),
        'Decrypt',
      );
    });

    it('when the consumer decrypts a billing-1 blob with its context, it answers 403 (the key is not named)', async () => {
      const r = await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.billing, EncryptionContext: '{"partition":"billing-1"}' });
      expectDenied(r, 'Decrypt');
      expect(r.body.Message).not.toMatch(/key\/|11111111-2222/);
    });

    it('when the consumer decrypts a blob that has no context, it answers 403 (an absent key fails StringLike)', async () => {
      expectDenied(await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.none }), 'Decrypt');
    });

    it('when the consumer leaves out the context of an orders blob, it answers 403: Decrypt is authorised with the context sent', async () => {
      expectDenied(await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.orders }), 'Decrypt');
    });

    it('when the consumer sends an orders context with a billing blob, it passes the policy but the blob does not open', async () => {
      const r = await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.billing, EncryptionContext: '{"partition":"orders-1"}' });
      expectError(r, 400, 'InvalidCiphertext');
      expect(r.body.Plaintext).toBeUndefined();
    });

    it('when the consumer sends DryRun, the condition is still checked', async () => {
      expectDenied(
        await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.billing, EncryptionContext: '{"partition":"billing-1"}', DryRun: 'true' }),
        'Decrypt',
      );
      expect(
        (await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: blobs.orders, EncryptionContext: '{"partition":"orders-1"}', DryRun: 'true' })).status,
      ).toBe(412);
    });
  });

  describe('GenerateDataKeyWithoutPlaintext with a condition on the partition', () => {
    beforeAll(async () => {
      await setPolicy(
        ORDERS_PROVIDER,
        policyOf({
          Effect: 'Allow',
          Action: 'kms:GenerateDataKeyWithoutPlaintext',
          Resource: '*',
          Condition: { StringEquals: { 'kms:EncryptionContext:partition': ['orders-1', 'orders-2'] } },
        }),
      );
    });

    it('when the provider asks for an orders-1 data key, it gets a blob the orders consumer can decrypt', async () => {
      const g = await as(ORDERS_PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID, EncryptionContext: '{"partition":"orders-1"}' });
      expect(g.status, g.raw).toBe(200);
      expect(g.body.Plaintext).toBeUndefined();
      const d = await as(ORDERS_CONSUMER, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: '{"partition":"orders-1"}' });
      expect(d.status, d.raw).toBe(200);
    });

    it('when the provider asks for another partition or none, it answers 403 naming the action and the key ARN it wrote', async () => {
      const variants: Record<string, string>[] = [{ EncryptionContext: '{"partition":"billing-1"}' }, { EncryptionContext: '{"partition":"ORDERS-1"}' }, {}];
      for (const params of variants) {
        const r = await as(ORDERS_PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID, ...params });
        expectDenied(r, 'GenerateDataKeyWithoutPlaintext');
        expect(r.body.Message).toContain(`key/${OTHER_KEY_ID}`);
      }
    });

    it('when the provider names an alias and the condition fails, it answers as for a missing alias', async () => {
      const r = await as(ORDERS_PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS, EncryptionContext: '{"partition":"billing-1"}' });
      expectError(r, 404, 'Forbidden.AliasNotFound');
      expect((await as(ORDERS_PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS, EncryptionContext: '{"partition":"orders-2"}' })).status).toBe(200);
    });

    it('when the provider calls GenerateDataKey (not allowed whatever the context), it answers 403', async () => {
      expectDenied(await as(ORDERS_PROVIDER, 'GenerateDataKey', { KeyId: KEY_ID, EncryptionContext: '{"partition":"orders-1"}' }), 'GenerateDataKey');
    });
  });

  describe('ReEncrypt: the source is authorised with SourceEncryptionContext, the destination with DestinationEncryptionContext', () => {
    const REENCRYPTER: Credentials = { accessKeyId: 'condReEncrypt1', accessKeySecret: 'cond-reencrypt-secret-0123456789' };
    beforeAll(async () => {
      await t.service.accessKeys.create({
        ...REENCRYPTER,
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: policyOf({ Effect: 'Allow', Action: 'kms:ReEncrypt', Resource: '*', Condition: ORDERS_ONLY }),
      });
    });
    const reEncrypt = (blob: string, source: string | undefined, destination: string | undefined) =>
      as(REENCRYPTER, 'ReEncrypt', {
        CiphertextBlob: blob,
        DestinationKeyId: OTHER_KEY_ID,
        ...(source ? { SourceEncryptionContext: source } : {}),
        ...(destination ? { DestinationEncryptionContext: destination } : {}),
      });

    it('when both contexts satisfy the condition, it re-encrypts', async () => {
      const r = await reEncrypt(blobs.orders, '{"partition":"orders-1"}', '{"partition":"orders-9"}');
      expect(r.status, r.raw).toBe(200);
      expect(r.body.KeyId).toBe(OTHER_KEY_ID);
    });

    it('when the destination context does not, it answers 403 on the destination key', async () => {
      const r = await reEncrypt(blobs.orders, '{"partition":"orders-1"}', '{"partition":"billing-1"}');
      expectDenied(r, 'ReEncrypt');
      expect(r.body.Message).toContain(`key/${OTHER_KEY_ID}`);
      expectDenied(await reEncrypt(blobs.orders, '{"partition":"orders-1"}', undefined), 'ReEncrypt');
    });

    it('when the source context does not, it answers 403 without naming the source key', async () => {
      const r = await reEncrypt(blobs.billing, '{"partition":"billing-1"}', '{"partition":"orders-1"}');
      expectDenied(r, 'ReEncrypt');
      expect(r.body.Message).not.toMatch(/11111111-2222/);
    });
  });

  describe('acs:SourceIp, acs:SecureTransport, acs:CurrentTime', () => {
    const describeKey = (extra: Partial<RpcRequest> = {}) => as(NETWORK, 'DescribeKey', { KeyId: KEY_ID }, extra);

    it('when IpAddress allows 10.0.0.0/8 and 2001:db8::/32, it allows those sources (mapped IPv4 too) and denies others', async () => {
      await setPolicy(
        NETWORK,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } }),
      );
      for (const sourceIp of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::7']) expect((await describeKey({ sourceIp })).status, sourceIp).toBe(200);
      for (const sourceIp of ['192.0.2.1', '::ffff:192.0.2.1', '2001:db9::7', 'not-an-ip', undefined])
        expectDenied(await describeKey({ sourceIp }), 'DescribeKey');
    });

    it('when a Deny with NotIpAddress guards an Allow, requests from outside the range (or with no address) are denied', async () => {
      await setPolicy(
        NETWORK,
        policyOf(
          { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
        ),
      );
      expect((await describeKey({ sourceIp: '10.9.9.9' })).status).toBe(200);
      expectDenied(await describeKey({ sourceIp: '203.0.113.1' }), 'DescribeKey');
      expectDenied(await describeKey({ sourceIp: undefined }), 'DescribeKey');
    });

    it('when Bool acs:SecureTransport "true" is required, a plain request is denied and a TLS one allowed', async () => {
      await setPolicy(NETWORK, policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'true' } } }));
      expectDenied(await describeKey(), 'DescribeKey');
      expectDenied(await describeKey({ secureTransport: false }), 'DescribeKey');
      expect((await describeKey({ secureTransport: true })).status).toBe(200);
      await setPolicy(
        NETWORK,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'false' } } }),
      );
      expect((await describeKey()).status).toBe(200);
    });

    it('when DateLessThan acs:CurrentTime is in the past, it denies; in the future, it allows', async () => {
      await setPolicy(
        NETWORK,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { DateLessThan: { 'acs:CurrentTime': '2020-01-01T00:00:00Z' } } }),
      );
      expectDenied(await describeKey(), 'DescribeKey');
      await setPolicy(
        NETWORK,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { DateLessThan: { 'acs:CurrentTime': '2999-01-01T00:00:00Z' } } }),
      );
      expect((await describeKey()).status).toBe(200);
    });

    it('when the service clock says so, acs:CurrentTime follows it (service.now, not the wall clock)', async () => {
      const at = Date.parse('2031-01-01T00:00:00Z');
      const late = await createTestService({ now: () => at });
      await late.service.accessKeys.create({
        ...NETWORK,
        status: 'Enabled',
        createdAt: new Date(at).toISOString(),
        policy: policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { DateGreaterThan: { 'acs:CurrentTime': '2030-01-01' } } }),
      });
      const signed = signedRpcRequest(NETWORK, 'DescribeKey', { KeyId: KEY_ID }, { timestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') });
      const r = await late.call(signed);
      expect(r.status, r.raw).toBe(200);
    });
  });

  describe('the adapters say whether a request came over TLS', () => {
    const nodeRequest = (encrypted: boolean | undefined) => {
      const req = Object.assign(new EventEmitter(), {
        method: 'GET',
        url: '/?a=1',
        headers: {},
        socket: encrypted === undefined ? { remoteAddress: '127.0.0.1' } : { remoteAddress: '127.0.0.1', encrypted },
      });
      const read = fromNodeRequest(req as unknown as IncomingMessage);
      req.emit('end');
      return read;
    };

    it('when node:http serves a TLS socket, secureTransport is true; a plain socket, false', async () => {
      expect((await nodeRequest(true)).secureTransport).toBe(true);
      expect((await nodeRequest(undefined)).secureTransport).toBe(false);
    });

    it('when an ALB says X-Forwarded-Proto https, secureTransport is true; http or a list, false', () => {
      const alb = (proto?: string): ALBEvent => ({
        requestContext: { elb: { targetGroupArn: 'arn' } },
        httpMethod: 'GET',
        path: '/',
        headers: proto === undefined ? {} : { 'X-Forwarded-Proto': proto },
        queryStringParameters: {},
        body: '',
        isBase64Encoded: false,
      });
      expect(fromLambdaEvent(alb('https')).secureTransport).toBe(true);
      expect(fromLambdaEvent(alb('http')).secureTransport).toBe(false);
      expect(fromLambdaEvent(alb('https, http')).secureTransport).toBe(false);
      expect(fromLambdaEvent(alb()).secureTransport).toBe(false);
    });
  });

  describe('kms:tag/<TagKey>: the tags of the key the request is authorised on', () => {
    const TAGGED: Credentials = { accessKeyId: 'condTagged001', accessKeySecret: 'cond-tagged-secret-0123456789' };
    const tag = (keyId: string, tags: Record<string, string>) =>
      as(ADMIN, 'TagResource', { KeyId: keyId, Tags: JSON.stringify(Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }))) });
    let prodBlob: string;
    beforeAll(async () => {
      await t.service.accessKeys.create({
        ...TAGGED,
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: policyOf({ Effect: 'Deny', Action: '*', Resource: '*' }),
      });
      expect((await tag(KEY_ID, { env: 'prod', team: 'Orders' })).status).toBe(200);
      expect((await tag(OTHER_KEY_ID, { env: 'dev', Env: 'prod' })).status).toBe(200);
      prodBlob = (await as(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'p' })).body.CiphertextBlob;
    });

    it('an Allow on StringEquals kms:tag/env = prod reaches the prod key by id, alias, ARN and blob, and no other key (tag keys are case-sensitive)', async () => {
      await setPolicy(TAGGED, policyOf({ Effect: 'Allow', Action: 'kms:*', Resource: '*', Condition: { StringEquals: { 'kms:tag/env': 'prod' } } }));
      for (const keyId of [KEY_ID, ALIAS, `acs:kms:cn-hangzhou:1234567890123456:key/${KEY_ID}`])
        expect((await as(TAGGED, 'DescribeKey', { KeyId: keyId })).status).toBe(200);
      expect((await as(TAGGED, 'Decrypt', { CiphertextBlob: prodBlob })).status).toBe(200);
      expectDenied(await as(TAGGED, 'DescribeKey', { KeyId: OTHER_KEY_ID }), 'DescribeKey');
      // A key that does not exist has no tags: 403, exactly as an untagged key, so existence does not leak.
      expectDenied(await as(TAGGED, 'DescribeKey', { KeyId: 'key-doesnotexist0000000001' }), 'DescribeKey');
      // Resources that are not keys have no tags.
      expectDenied(await as(TAGGED, 'ListKeys', {}), 'ListKeys');
    });

    it('the condition key name is case-insensitive, the TagKey is not; StringLike and StringEqualsIgnoreCase read values as for contexts', async () => {
      await setPolicy(
        TAGGED,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { StringEqualsIgnoreCase: { 'KMS:TAG/team': 'orders' } } }),
      );
      expect((await as(TAGGED, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(200);
      await setPolicy(
        TAGGED,
        policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { StringEquals: { 'kms:tag/TEAM': 'Orders' } } }),
      );
      expectDenied(await as(TAGGED, 'DescribeKey', { KeyId: KEY_ID }), 'DescribeKey');
      await setPolicy(TAGGED, policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*', Condition: { StringLike: { 'kms:tag/env': 'pr*' } } }));
      expect((await as(TAGGED, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(200);
      expectDenied(await as(TAGGED, 'DescribeKey', { KeyId: OTHER_KEY_ID }), 'DescribeKey');
    });

    it('a Deny on kms:tag/env = prod protects the prod key from an otherwise allowed caller; a re-tag takes effect at once', async () => {
      await setPolicy(
        TAGGED,
        policyOf(
          { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Action: 'kms:DisableKey', Resource: '*', Condition: { StringEquals: { 'kms:tag/env': 'prod' } } },
        ),
      );
      expectDenied(await as(TAGGED, 'DisableKey', { KeyId: KEY_ID }), 'DisableKey');
      // A missing key answers as the denied one, not 404: existence does not leak through the Deny.
      expectDenied(await as(TAGGED, 'DisableKey', { KeyId: 'key-doesnotexist0000000001' }), 'DisableKey');
      // By alias, a denied key answers as a missing alias (nothing about it leaks).
      expectError(await as(TAGGED, 'DisableKey', { KeyId: ALIAS }), 404, 'Forbidden.AliasNotFound');
      expect((await as(TAGGED, 'DescribeKey', { KeyId: KEY_ID })).status).toBe(200);
      expect((await tag(KEY_ID, { env: 'staging' })).status).toBe(200);
      expect((await as(TAGGED, 'DisableKey', { KeyId: KEY_ID })).status).toBe(200);
      expect((await as(TAGGED, 'EnableKey', { KeyId: KEY_ID })).status).toBe(200);
      await tag(KEY_ID, { env: 'prod' });
    });

    it('on CreateKey the condition reads the Tags requested: a caller may only create keys tagged as its policy says', async () => {
      await setPolicy(TAGGED, policyOf({ Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*', Condition: { StringEquals: { 'kms:tag/team': 'orders' } } }));
      const created = await as(TAGGED, 'CreateKey', { Tags: '[{"TagKey":"team","TagValue":"orders"}]' });
      expect(created.status, created.raw).toBe(200);
      expect((await as(ADMIN, 'ListResourceTags', { KeyId: created.body.KeyMetadata.KeyId })).body.Tags.Tag).toEqual([
        { KeyId: created.body.KeyMetadata.KeyId, TagKey: 'team', TagValue: 'orders' },
      ]);
      expectDenied(await as(TAGGED, 'CreateKey', { Tags: '[{"TagKey":"team","TagValue":"billing"}]' }), 'CreateKey');
      expectDenied(await as(TAGGED, 'CreateKey', {}), 'CreateKey');
    });
  });

  describe('policies that cannot be enforced are refused on every write path', () => {
    const BAD: [string, unknown, RegExp][] = [
      ['an unknown action', policyOf({ Effect: 'Allow', Action: 'kms:Decrpyt', Resource: '*' }), /"kms:Decrpyt" is not an action of this service/],
      ['a pattern matching no action', policyOf({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Foo*'], Resource: '*' }), /"kms:Foo\*" matches no action/],
      [
        'an unknown operator',
        {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringMatches: { 'kms:EncryptionContext:partition': 'x' } } }],
        },
        /condition operator "StringMatches" is not supported/,
      ],
      [
        'kms:tag/ with no TagKey',
        { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:tag/': 'x' } } }] },
        /condition key "kms:tag\/" is not supported/,
      ],
      [
        'kms:tag/<TagKey> under a non-string operator',
        { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { Bool: { 'kms:tag/env': 'true' } } }] },
        /kms:tag/,
      ],
      [
        'an unknown condition key',
        { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'acs:Partition': 'x' } } }] },
        /condition key "acs:Partition" is not supported/,
      ],
    ];

    it.each(BAD)('when an access key is created with %s, it is refused with a clear message', async (_what, policy, message) => {
      const id = 'condBadCreate1';
      const create = t.service.accessKeys.create({
        accessKeyId: id,
        accessKeySecret: 'bad-create-secret-0123456789',
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: policy as PolicyDocument,
      });
      await expect(create).rejects.toThrow(InvalidPolicyError);
      await expect(create).rejects.toThrow(message);
      expect(await t.service.accessKeys.get(id)).toBeUndefined();
    });

    it.each(BAD)('when a policy is set with %s, it is refused and the old policy stays', async (_what, policy, message) => {
      const before = await t.service.accessKeys.get(ORDERS_CONSUMER.accessKeyId);
      await expect(setPolicy(ORDERS_CONSUMER, policy as PolicyDocument)).rejects.toThrow(message);
      await expect(t.service.accessKeys.update(ORDERS_CONSUMER.accessKeyId, (r) => ({ ...r, policy: policy as PolicyDocument }))).rejects.toThrow(message);
      expect((await t.service.accessKeys.get(ORDERS_CONSUMER.accessKeyId))?.policy).toEqual(before?.policy);
    });

    it.each(BAD)('when a seed has an access key with %s, it is refused (SeedError naming the field) and nothing is written', async (_what, policy, message) => {
      const fresh = await createTestService();
      const seed = {
        keys: [{ keyId: 'key-seedcondition0001', aliases: ['alias/seed-condition'] }],
        accessKeys: [{ accessKeyId: 'condSeedKey01', accessKeySecret: 'seed-condition-secret-0123', policy: policy as PolicyDocument }],
      };
      const applying = applySeed(seed, fresh.service);
      await expect(applying).rejects.toThrow(SeedError);
      await expect(applying).rejects.toThrow(/^seed: accessKeys\[0\]\.policy\.Statement\[0\]\.(Action|Condition)/);
      await expect(applying).rejects.toThrow(message);
      expect(await fresh.service.accessKeys.get('condSeedKey01')).toBeUndefined();
      expect(await fresh.service.keyring.getKey('key-seedcondition0001')).toBeUndefined();
    });
  });

  describe('a stored policy that no longer validates', () => {
    const LEGACY: Credentials = { accessKeyId: 'condLegacy001', accessKeySecret: 'cond-legacy-secret-0123456789' };
    let logLines: string[];
    let legacy: TestService;
    beforeAll(async () => {
      logLines = [];
      legacy = await createTestService({ logLines });
      // Written past the registry, as an older version of the service could have stored it.
      const record = {
        ...LEGACY,
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: policyOf({ Effect: 'Allow', Action: ['kms:Decrpyt', 'kms:DescribeKey'], Resource: '*' }),
      };
      await legacy.store.create(`access-keys/${LEGACY.accessKeyId}`, Buffer.from(JSON.stringify(record)), { writeOnce: false });
    });

    it('when its key signs a request, it is denied everything (403, not a 500) and the denial is logged without the policy', async () => {
      const r = await legacy.call(signedRpcRequest(LEGACY, 'DescribeKey', { KeyId: KEY_ID }));
      expectDenied(r, 'DescribeKey');
      const warning = logLines.find((line) => line.includes('access key policy is not valid'));
      expect(warning).toBeDefined();
      expect(warning).toContain(LEGACY.accessKeyId);
      expect(warning).not.toContain('Decrpyt');
      expect(logLines.join('\n')).not.toContain(LEGACY.accessKeySecret);
    });

    it('when it is read, the record shows the stored policy and why it is refused; listing still works', async () => {
      const record = await legacy.service.accessKeys.get(LEGACY.accessKeyId);
      expect(record?.policyError).toMatch(/Statement\[0\]\.Action\[0\]: "kms:Decrpyt" is not an action/);
      expect(await legacy.service.accessKeys.list()).toContain(LEGACY.accessKeyId);
    });

    it('when a write keeps it (a status change), it is refused; when set-policy replaces it, the key works again', async () => {
      await expect(legacy.service.accessKeys.setStatus(LEGACY.accessKeyId, 'Disabled')).rejects.toThrow(/kms:Decrpyt/);
      await legacy.service.accessKeys.setPolicy(LEGACY.accessKeyId, policyOf({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }));
      const record = await legacy.service.accessKeys.get(LEGACY.accessKeyId);
      expect(record?.policyError).toBeUndefined();
      expect((await legacy.call(signedRpcRequest(LEGACY, 'DescribeKey', { KeyId: KEY_ID }))).status).toBe(200);
    });
  });
});
