import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT_ID,
  ADMIN,
  ALIAS,
  CONSUMER,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  KEY_VERSION_ID,
  OTHER_KEY_ID,
  PROVIDER,
  REGION,
  type TestService,
} from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { dataKeyLength, expectError, names, parseXml, XML_DECLARATION } from './support.js';

const ACTION = 'GenerateDataKeyWithoutPlaintext';
const RESPONSE_FIELDS = ['CiphertextBlob', 'KeyId', 'KeyVersionId', 'RequestId'];

describe('Action: GenerateDataKeyWithoutPlaintext', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });
  const generate = (params: Record<string, string>, format?: string) => t.call(signedRpcRequest(PROVIDER, ACTION, params, { format }));
  const consumerDecrypt = (params: Record<string, string>) => t.call(signedRpcRequest(CONSUMER, 'Decrypt', params));

  /** The data key behind a blob, as the consumer sees it. */
  async function unwrap(blob: string, context?: string): Promise<string> {
    const d = await consumerDecrypt({ CiphertextBlob: blob, ...(context === undefined ? {} : { EncryptionContext: context }) });
    expect(d.status).toBe(200);
    return d.body.Plaintext as string;
  }

  describe('response', () => {
    it('when it succeeds, the body has exactly RequestId, KeyId, KeyVersionId and CiphertextBlob, and no Plaintext', async () => {
      const r = await generate({ KeyId: KEY_ID });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(RESPONSE_FIELDS);
      expect(r.body).not.toHaveProperty('Plaintext');
      expect(r.raw).not.toMatch(/Plaintext/i);
      expect(r.body.KeyId).toBe(KEY_ID);
      expect(r.body.KeyVersionId).toBe(KEY_VERSION_ID);
    });

    it('when the response is not in JSON but XML, it has no Plaintext element either', async () => {
      for (const format of ['XML', 'xml', 'Xml']) {
        const r = await generate({ KeyId: KEY_ID }, format);
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/xml/);
        expect(r.raw.startsWith(`${XML_DECLARATION}<KMS>`)).toBe(true);
        expect(r.raw.endsWith('</KMS>')).toBe(true);
        expect(r.raw).not.toMatch(/Plaintext/i);
        const kms = parseXml(r.raw).KMS as Record<string, string>;
        expect(Object.keys(kms).sort()).toEqual(RESPONSE_FIELDS);
        expect(kms.KeyId).toBe(KEY_ID);
        expect(r.headers['x-acs-request-id']).toBe(kms.RequestId);
      }
    });

    it('when the blob is decrypted by the consumer, no field of the response carried the data key', async () => {
      for (const n of [16, 32, 64]) {
        const r = await generate({ KeyId: KEY_ID, NumberOfBytes: String(n) });
        expect(r.status).toBe(200);
        const dataKey = await unwrap(r.body.CiphertextBlob);
        const raw = Buffer.from(dataKey, 'base64');
        // Neither the Base64 text, nor its bytes in hex or Base64url, appear in the response.
        expect(r.raw).not.toContain(dataKey);
        expect(r.raw).not.toContain(raw.toString('hex'));
        expect(r.raw).not.toContain(raw.toString('base64url'));
        for (const value of Object.values(r.body)) expect(value).not.toBe(dataKey);
      }
    });

    it('when it is called twice, the blobs differ and so do the data keys inside', async () => {
      const a = await generate({ KeyId: KEY_ID });
      const b = await generate({ KeyId: KEY_ID });
      expect(a.body.CiphertextBlob).not.toBe(b.body.CiphertextBlob);
      expect(await unwrap(a.body.CiphertextBlob)).not.toBe(await unwrap(b.body.CiphertextBlob));
    });

    it('when it is called over V3, it answers the same fields and no Plaintext', async () => {
      const r = await t.call(signedV3Request(PROVIDER, ACTION, { KeyId: ALIAS }));
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(RESPONSE_FIELDS);
    });
  });

  describe('data-key length (seen through Decrypt)', () => {
    it.each([
      ['no KeySpec or NumberOfBytes', {}, 32],
      ['KeySpec AES_128', { KeySpec: 'AES_128' }, 16],
      ['KeySpec AES_256', { KeySpec: 'AES_256' }, 32],
      ['NumberOfBytes 1', { NumberOfBytes: '1' }, 1],
      ['NumberOfBytes 1024', { NumberOfBytes: '1024' }, 1024],
      ['NumberOfBytes 24 with KeySpec AES_128', { NumberOfBytes: '24', KeySpec: 'AES_128' }, 24],
      ['NumberOfBytes 10 with an invalid KeySpec', { NumberOfBytes: '10', KeySpec: 'AES_999' }, 10],
    ])('when given %s, the blob decrypts to the Base64 of a data key of the length that implies', async (_label, params, bytes) => {
      const r = await generate({ KeyId: KEY_ID, ...params });
      expect(r.status).toBe(200);
      expect(dataKeyLength(await unwrap(r.body.CiphertextBlob))).toBe(bytes);
    });

    it.each(['0', '1025', 'x'])('when NumberOfBytes is %j, it answers 400 InvalidParameter naming NumberOfBytes', async (value) => {
      expectError(await generate({ KeyId: KEY_ID, NumberOfBytes: value }), 400, 'InvalidParameter', names('NumberOfBytes'));
    });

    it('when KeySpec alone is unknown, it answers 400 InvalidParameter naming KeySpec', async () => {
      expectError(await generate({ KeyId: KEY_ID, KeySpec: 'AES_512' }), 400, 'InvalidParameter', names('KeySpec'));
    });
  });

  describe('KeyId', () => {
    it('when KeyId is missing, it answers 400 MissingParameter naming KeyId', async () => {
      expectError(await generate({}), 400, 'MissingParameter', names('KeyId'));
    });

    it.each([
      ['the key id', KEY_ID],
      ['an alias', ALIAS],
      ['a key ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:key/${KEY_ID}`],
      ['an alias ARN', `acs:kms:${REGION}:${ACCOUNT_ID}:alias/test`],
    ])('when KeyId is %s, it answers with the resolved key id', async (_label, keyId) => {
      const r = await generate({ KeyId: keyId });
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(KEY_ID);
      expect(r.body.KeyVersionId).toBe(KEY_VERSION_ID);
    });

    it('when KeyId is alias/other, it answers with the key-… id', async () => {
      const r = await generate({ KeyId: 'alias/other' });
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(OTHER_KEY_ID);
    });

    it.each([
      ['a key ARN of another region', `acs:kms:cn-shanghai:${ACCOUNT_ID}:key/${KEY_ID}`],
      ['a key ARN of another account', `acs:kms:${REGION}:9999999999999999:key/${KEY_ID}`],
      ['an unknown key id', '99999999-2222-4333-8444-555555555555'],
    ])('when KeyId is %s, it answers 404 Forbidden.KeyNotFound', async (_label, keyId) => {
      expectError(await generate({ KeyId: keyId }), 404, 'Forbidden.KeyNotFound');
    });

    it('when KeyId is an unknown alias, it answers 404 Forbidden.AliasNotFound', async () => {
      expectError(await generate({ KeyId: 'alias/nope' }), 404, 'Forbidden.AliasNotFound');
    });

    it('when the key is disabled, it answers 409 Rejected.Disabled', async () => {
      expectError(await generate({ KeyId: DISABLED_KEY_ID }), 409, 'Rejected.Disabled');
    });
  });

  describe('DryRun', () => {
    it('when DryRun=true and the request would succeed, it answers 412 DryRunOperationError', async () => {
      expectError(await generate({ KeyId: KEY_ID, DryRun: 'true' }), 412, 'DryRunOperationError');
    });

    it('when DryRun=true and the caller may not call it, it answers 403 Forbidden.NoPermission', async () => {
      const r = await t.call(signedRpcRequest(CONSUMER, ACTION, { KeyId: KEY_ID, DryRun: 'true' }));
      expectError(r, 403, 'Forbidden.NoPermission');
    });

    it('when DryRun=true and the key does not exist, it answers 404 Forbidden.KeyNotFound', async () => {
      expectError(await generate({ KeyId: '99999999-2222-4333-8444-555555555555', DryRun: 'true' }), 404, 'Forbidden.KeyNotFound');
    });
  });

  describe('EncryptionContext', () => {
    it('when a context is given, the blob decrypts only with an equal context (any key order)', async () => {
      const r = await generate({ KeyId: KEY_ID, EncryptionContext: '{"a":"1","b":"2"}' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(await unwrap(r.body.CiphertextBlob, '{"b":"2","a":"1"}'))).toBe(32);
      expectError(await consumerDecrypt({ CiphertextBlob: r.body.CiphertextBlob }), 400, 'InvalidCiphertext');
      expectError(await consumerDecrypt({ CiphertextBlob: r.body.CiphertextBlob, EncryptionContext: '{"a":"1"}' }), 400, 'InvalidCiphertext');
    });

    it('when the context is flattened, it equals the JSON form', async () => {
      const r = await generate({ KeyId: KEY_ID, 'EncryptionContext.a': '1', 'EncryptionContext.b': '2' });
      expect(r.status).toBe(200);
      expect(dataKeyLength(await unwrap(r.body.CiphertextBlob, '{"a":"1","b":"2"}'))).toBe(32);
    });

    it('when the context is {}, it equals none', async () => {
      const r = await generate({ KeyId: KEY_ID, EncryptionContext: '{}' });
      expect(dataKeyLength(await unwrap(r.body.CiphertextBlob))).toBe(32);
    });

    it.each([
      ['over 8192 characters', JSON.stringify({ k: 'v'.repeat(8200) })],
      ['a number value', '{"a":1}'],
      ['nested', '{"a":{"b":"c"}}'],
    ])('when the context is %s, it answers 400 InvalidParameter naming EncryptionContext', async (_label, text) => {
      expectError(await generate({ KeyId: KEY_ID, EncryptionContext: text }), 400, 'InvalidParameter', names('EncryptionContext'));
    });
  });

  describe('admin', () => {
    it('when an admin calls it, it behaves the same', async () => {
      const r = await t.call(signedRpcRequest(ADMIN, ACTION, { KeyId: KEY_ID, KeySpec: 'AES_128' }));
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(RESPONSE_FIELDS);
      expect(dataKeyLength(await unwrap(r.body.CiphertextBlob))).toBe(16);
    });
  });
});
