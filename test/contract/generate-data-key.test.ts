import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT_ID,
  ADMIN,
  ALIAS,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  keyArnOf,
  OTHER_KEY_ID,
  PROVIDER,
  REGION,
  type TestService,
} from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { dataKeyLength, expectError, names } from './support.js';

const ACTION = 'GenerateDataKey';

describe('Action: GenerateDataKey', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });
  const generate = (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, ACTION, params));
  const decrypt = (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, 'Decrypt', params));

  describe('data-key length', () => {
    it('when neither KeySpec nor NumberOfBytes is given, it returns a 32-byte data key', async () => {
      const r = await generate({ KeyId: KEY_ID });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(32);
    });

    it('when KeySpec is AES_128, it returns a 16-byte data key', async () => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: 'AES_128' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(16);
    });

    it('when KeySpec is AES_256, it returns a 32-byte data key', async () => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: 'AES_256' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(32);
    });

    it.each([1, 7, 1024])('when NumberOfBytes is %i, it returns a data key of that many bytes', async (n) => {
      const r = await generate({ KeyId: KEY_ID, NumberOfBytes: String(n) });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(n);
    });

    it('when both NumberOfBytes and KeySpec are given, NumberOfBytes wins', async () => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: 'AES_128', NumberOfBytes: '24' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(24);
    });

    it('when NumberOfBytes is given with an invalid KeySpec, the KeySpec is ignored', async () => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: 'AES_999', NumberOfBytes: '10' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(10);
    });

    it.each(['0', '1025', 'x', '-1', '1.5', '', ' 32', '99999999999'])(
      'when NumberOfBytes is %j, it answers 400 InvalidParameter naming NumberOfBytes',
      async (value) => {
        const r = await generate({ KeyId: KEY_ID, NumberOfBytes: value });
        expectError(r, 400, 'InvalidParameter', names('NumberOfBytes'));
      },
    );

    it('when NumberOfBytes is invalid and KeySpec valid, it still answers 400 InvalidParameter naming NumberOfBytes', async () => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: 'AES_256', NumberOfBytes: '0' });
      expectError(r, 400, 'InvalidParameter', names('NumberOfBytes'));
    });

    it.each(['AES_512', 'aes_256', 'Aliyun_AES_256', ''])('when KeySpec alone is %j, it answers 400 InvalidParameter naming KeySpec', async (spec) => {
      const r = await generate({ KeyId: KEY_ID, KeySpec: spec });
      expectError(r, 400, 'InvalidParameter', names('KeySpec'));
    });
  });

  describe('KeyId', () => {
    it('when KeyId is missing, it answers 400 MissingParameter naming KeyId', async () => {
      const r = await generate({});
      expectError(r, 400, 'MissingParameter', names('KeyId'));
    });

    it('when KeyId is missing and KeySpec is invalid, it still answers MissingParameter naming KeyId', async () => {
      const r = await generate({ KeySpec: 'AES_999' });
      expectError(r, 400, 'MissingParameter', names('KeyId'));
    });

    it.each([
      ['the key id', KEY_ID],
      ['an alias', ALIAS],
      ['a key ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:key/${KEY_ID}`],
      ['an alias ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:alias/test`],
    ])('when KeyId is %s, it answers with the resolved key id and its primary version', async (_label, keyId) => {
      const r = await generate({ KeyId: keyId });
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(KEY_ID);
      expect(r.body.KeyVersionId).toBe(KEY_VERSION_ID);
    });

    it('when KeyId is the alias of a key-… id, it answers with that key id', async () => {
      const r = await generate({ KeyId: 'alias/other' });
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(OTHER_KEY_ID);
    });

    it.each([
      ['a key ARN of another region', `acs:kms:cn-shanghai:${ACCOUNT_ID}:key/${KEY_ID}`],
      ['a key ARN of another account', `acs:kms:${REGION}:9999999999999999:key/${KEY_ID}`],
      ['an alias ARN of another region', `acs:kms:cn-beijing:${ACCOUNT_ID}:alias/test`],
      ['an unknown UUID', '99999999-2222-4333-8444-555555555555'],
      ['an unknown key-… id', 'key-hzz00000000000000000000'],
      ['an unknown key ARN', keyArnOf('99999999-2222-4333-8444-555555555555')],
      ['text that is no key id', 'not-a-key'],
    ])('when KeyId is %s, it answers 404 Forbidden.KeyNotFound', async (_label, keyId) => {
      const r = await generate({ KeyId: keyId });
      expectError(r, 404, 'Forbidden.KeyNotFound');
    });

    it.each([
      ['an unknown alias', 'alias/nope'],
      ['an unknown alias ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:alias/nope`],
    ])('when KeyId is %s, it answers 404 Forbidden.AliasNotFound', async (_label, keyId) => {
      const r = await generate({ KeyId: keyId });
      expectError(r, 404, 'Forbidden.AliasNotFound');
    });
  });

  describe('response', () => {
    it('when it succeeds, the body has exactly RequestId, KeyId, KeyVersionId, CiphertextBlob and Plaintext', async () => {
      const r = await generate({ KeyId: ALIAS });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'Plaintext', 'RequestId']);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['x-acs-request-id']).toBe(r.body.RequestId);
      // The blob names the version it was made with.
      expect(Buffer.from(r.body.CiphertextBlob, 'base64').toString('ascii', 0, 36)).toBe(KEY_VERSION_ID);
    });

    it('when it is called twice, it returns different data keys and different blobs', async () => {
      const a = await generate({ KeyId: KEY_ID });
      const b = await generate({ KeyId: KEY_ID });
      expect(a.body.Plaintext).not.toBe(b.body.Plaintext);
      expect(a.body.CiphertextBlob).not.toBe(b.body.CiphertextBlob);
      expect(a.body.RequestId).not.toBe(b.body.RequestId);
    });

    it('when its blob is decrypted, Decrypt returns exactly its Plaintext', async () => {
      const g = await generate({ KeyId: KEY_ID, NumberOfBytes: '17' });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob });
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
      expect(d.body.KeyId).toBe(KEY_ID);
      expect(d.body.KeyVersionId).toBe(KEY_VERSION_ID);
    });
  });

  describe('DryRun', () => {
    it('when DryRun=true and the request would succeed, it answers 412 DryRunOperationError and returns no key', async () => {
      const r = await generate({ KeyId: KEY_ID, DryRun: 'true' });
      expectError(r, 412, 'DryRunOperationError', 'would have succeeded');
      expect(r.body.Plaintext).toBeUndefined();
    });

    it('when DryRun=true and the key is disabled, it answers the real error (409), not DryRunOperationError', async () => {
      expectError(await generate({ KeyId: DISABLED_KEY_ID, DryRun: 'true' }), 409, 'Rejected.Disabled');
    });

    it('when DryRun=false, it generates a data key as usual', async () => {
      const r = await generate({ KeyId: KEY_ID, DryRun: 'false' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(r.body.Plaintext)).toBe(32);
    });

    it('when DryRun is not a boolean, it answers 400 InvalidParameter naming DryRun', async () => {
      const r = await generate({ KeyId: KEY_ID, DryRun: 'maybe' });
      expectError(r, 400, 'InvalidParameter', names('DryRun'));
    });

    it('when DryRun=true and the caller may not GenerateDataKey, it still answers 403 Forbidden.NoPermission', async () => {
      const r = await t.call(signedRpcRequest(PROVIDER, ACTION, { KeyId: KEY_ID, DryRun: 'true' }));
      expectError(r, 403, 'Forbidden.NoPermission');
    });

    it('when DryRun=true and the key does not exist, it still answers 404 Forbidden.KeyNotFound', async () => {
      const r = await generate({ KeyId: '99999999-2222-4333-8444-555555555555', DryRun: 'true' });
      expectError(r, 404, 'Forbidden.KeyNotFound');
    });

    it('when DryRun=true and a parameter is invalid, it still answers 400 InvalidParameter', async () => {
      const r = await generate({ KeyId: KEY_ID, NumberOfBytes: '0', DryRun: 'true' });
      expectError(r, 400, 'InvalidParameter', names('NumberOfBytes'));
    });
  });

  describe('key state', () => {
    it('when the key is disabled, it answers 409 Rejected.Disabled', async () => {
      const r = await generate({ KeyId: DISABLED_KEY_ID });
      expectError(r, 409, 'Rejected.Disabled');
    });

    it('when the key is disabled and named by alias, it answers 409 Rejected.Disabled', async () => {
      const r = await generate({ KeyId: 'alias/disabled' });
      expectError(r, 409, 'Rejected.Disabled');
    });
  });

  describe('EncryptionContext', () => {
    const context = { purpose: 'test', tenant: 'a' };

    it('when the blob is decrypted with the same context, it returns the data key', async () => {
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: JSON.stringify(context) });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: JSON.stringify(context) });
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
    });

    it('when the blob is decrypted with the keys in another order, it returns the data key', async () => {
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: '{"purpose":"test","tenant":"a"}' });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: '{"tenant":"a","purpose":"test"}' });
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
    });

    it.each([
      ['a different value', { purpose: 'test', tenant: 'b' }],
      ['a different case', { purpose: 'Test', tenant: 'a' }],
      ['an extra pair', { purpose: 'test', tenant: 'a', x: 'y' }],
      ['a missing pair', { purpose: 'test' }],
      ['an empty object', {}],
    ])('when the blob is decrypted with %s, it answers 400 InvalidCiphertext', async (_label, other) => {
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: JSON.stringify(context) });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: JSON.stringify(other) });
      expectError(d, 400, 'InvalidCiphertext');
      expect(d.raw).not.toContain(g.body.Plaintext);
    });

    it('when the blob is decrypted with no context, it answers 400 InvalidCiphertext', async () => {
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: JSON.stringify(context) });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob });
      expectError(d, 400, 'InvalidCiphertext');
    });

    it('when a blob made without context is decrypted with one, it answers 400 InvalidCiphertext', async () => {
      const g = await generate({ KeyId: KEY_ID });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: JSON.stringify(context) });
      expectError(d, 400, 'InvalidCiphertext');
    });

    it('when the contexts differ only in where a separator falls, they are different contexts', async () => {
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: '{"a":"b&c=d"}' });
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: '{"a":"b","c":"d"}' });
      expectError(d, 400, 'InvalidCiphertext');
    });

    it('when the context is {}, it equals no context', async () => {
      const g1 = await generate({ KeyId: KEY_ID, EncryptionContext: '{}' });
      const d1 = await decrypt({ CiphertextBlob: g1.body.CiphertextBlob });
      expect(d1.status).toBe(200);
      expect(d1.body.Plaintext).toBe(g1.body.Plaintext);
      const g2 = await generate({ KeyId: KEY_ID });
      const d2 = await decrypt({ CiphertextBlob: g2.body.CiphertextBlob, EncryptionContext: '{}' });
      expect(d2.status).toBe(200);
      expect(d2.body.Plaintext).toBe(g2.body.Plaintext);
    });

    it('when the context is sent flattened (EncryptionContext.k=v), it equals the JSON form', async () => {
      const g1 = await generate({ KeyId: KEY_ID, 'EncryptionContext.purpose': 'test', 'EncryptionContext.tenant': 'a' });
      expect(g1.status).toBe(200);
      const d1 = await decrypt({ CiphertextBlob: g1.body.CiphertextBlob, EncryptionContext: JSON.stringify(context) });
      expect(d1.status).toBe(200);
      expect(d1.body.Plaintext).toBe(g1.body.Plaintext);

      const g2 = await generate({ KeyId: KEY_ID, EncryptionContext: JSON.stringify(context) });
      const d2 = await decrypt({ CiphertextBlob: g2.body.CiphertextBlob, 'EncryptionContext.tenant': 'a', 'EncryptionContext.purpose': 'test' });
      expect(d2.status).toBe(200);
      expect(d2.body.Plaintext).toBe(g2.body.Plaintext);

      const d3 = await decrypt({ CiphertextBlob: g2.body.CiphertextBlob, 'EncryptionContext.tenant': 'b', 'EncryptionContext.purpose': 'test' });
      expectError(d3, 400, 'InvalidCiphertext');
    });

    it('when the context is given both as JSON and flattened, it answers 400 InvalidParameter', async () => {
      const r = await generate({ KeyId: KEY_ID, EncryptionContext: JSON.stringify(context), 'EncryptionContext.x': 'y' });
      expectError(r, 400, 'InvalidParameter', names('EncryptionContext'));
    });

    it('when the context is exactly 8192 characters, it is accepted', async () => {
      const text = JSON.stringify({ k: 'v'.repeat(8192 - '{"k":""}'.length) });
      expect(text).toHaveLength(8192);
      const g = await generate({ KeyId: KEY_ID, EncryptionContext: text });
      expect(g.status).toBe(200);
      const d = await decrypt({ CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: text });
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
    });

    it('when the context is over 8192 characters, it answers 400 InvalidParameter naming EncryptionContext', async () => {
      const text = JSON.stringify({ k: 'v'.repeat(8193 - '{"k":""}'.length) });
      expect(text).toHaveLength(8193);
      const r = await generate({ KeyId: KEY_ID, EncryptionContext: text });
      expectError(r, 400, 'InvalidParameter', names('EncryptionContext'));
    });

    it('when the flattened context is over 8192 characters, it answers 400 InvalidParameter naming EncryptionContext', async () => {
      const r = await generate({ KeyId: KEY_ID, 'EncryptionContext.k': 'v'.repeat(9000) });
      expectError(r, 400, 'InvalidParameter', names('EncryptionContext'));
    });

    it.each([
      ['a number value', '{"a":1}'],
      ['a boolean value', '{"a":true}'],
      ['a null value', '{"a":null}'],
      ['a nested object', '{"a":{"b":"c"}}'],
      ['an array value', '{"a":["b"]}'],
      ['an array', '["a","b"]'],
      ['a JSON string', '"a"'],
      ['a JSON number', '42'],
      ['null', 'null'],
      ['text that is not JSON', '{a:b}'],
    ])('when the context is %s, it answers 400 InvalidParameter naming EncryptionContext', async (_label, text) => {
      const r = await generate({ KeyId: KEY_ID, EncryptionContext: text });
      expectError(r, 400, 'InvalidParameter', names('EncryptionContext'));
    });
  });
});
