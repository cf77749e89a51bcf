import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, keyArnOf, OTHER_KEY_ID, PROVIDER, SCOPED, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError } from './support.js';

/** Allowed to Decrypt only under OTHER_KEY_ID: shows Decrypt is authorised on the blob's key. */
const OTHER_ONLY: Credentials = { accessKeyId: 'testOtherOnly01', accessKeySecret: 'other-only-secret-0123456789' };

describe('Authorization: the seed’s trust split', () => {
  let t: TestService;
  let keyBlob: string;
  let otherBlob: string;
  beforeAll(async () => {
    t = await createTestService();
    await t.service.accessKeys.create({
      ...OTHER_ONLY,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArnOf(OTHER_KEY_ID) }] },
    });
    keyBlob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'under KEY_ID' }))).body.CiphertextBlob;
    otherBlob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: OTHER_KEY_ID, Plaintext: 'under OTHER_KEY_ID' }))).body.CiphertextBlob;
  });
  const as = (who: Credentials, action: string, params: Record<string, string>) => t.call(signedRpcRequest(who, action, params));

  /** A 403 whose message names the RAM action and the resource ARN the caller named. */
  const expectForbidden = (r: Awaited<ReturnType<TestService['call']>>, action: string, keyId: string) => {
    expectError(r, 403, 'Forbidden.NoPermission');
    expect(r.body.Message).toContain(`kms:${action}`);
    expect(r.body.Message).toContain(keyArnOf(keyId));
    expect(r.body.Plaintext).toBeUndefined();
    expect(r.body.CiphertextBlob).toBeUndefined();
  };
  /** A 403 for a ciphertext: names the action and the blob's key version, never the key. */
  const expectForbiddenBlob = (r: Awaited<ReturnType<TestService['call']>>, action: string, blob: string) => {
    expectError(r, 403, 'Forbidden.NoPermission');
    expect(r.body.Message).toContain(`kms:${action}`);
    expect(r.body.Message).toContain(Buffer.from(blob, 'base64').toString('ascii', 0, 36));
    expect(r.body.Message).not.toMatch(/key\/|11111111-2222|key-hzz/);
    expect(r.body.Plaintext).toBeUndefined();
  };
  /** An alias the caller may not use answers as a missing one: 404, and the key it names is not told. */
  const expectHiddenAlias = (r: Awaited<ReturnType<TestService['call']>>, action: string, alias: string) => {
    expectError(r, 404, 'Forbidden.AliasNotFound');
    expect(r.body.Message).toBe(`The specified alias "${alias}" is not found, or this access key may not use it for "kms:${action}".`);
  };

  describe('PROVIDER (only kms:GenerateDataKeyWithoutPlaintext)', () => {
    it('when it calls GenerateDataKeyWithoutPlaintext, it gets a blob the consumer can decrypt', async () => {
      const g = await as(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: ALIAS });
      expect(g.status).toBe(200);
      expect(g.body.Plaintext).toBeUndefined();
      const d = await as(CONSUMER, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob });
      expect(d.status).toBe(200);
      expect(Buffer.from(d.body.Plaintext, 'base64')).toHaveLength(32);
    });

    it('when it calls GenerateDataKeyWithoutPlaintext on any key, it is allowed (Resource *)', async () => {
      const g = await as(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID });
      expect(g.status).toBe(200);
      expect(g.body.KeyId).toBe(OTHER_KEY_ID);
    });

    it('when it calls GenerateDataKey, it answers 403 Forbidden.NoPermission naming kms:GenerateDataKey and the key ARN', async () => {
      expectForbidden(await as(PROVIDER, 'GenerateDataKey', { KeyId: KEY_ID }), 'GenerateDataKey', KEY_ID);
    });

    it('when it calls GenerateDataKey through an alias, it answers as for a missing alias (the key it names is not told)', async () => {
      const denied = await as(PROVIDER, 'GenerateDataKey', { KeyId: ALIAS });
      expectHiddenAlias(denied, 'GenerateDataKey', ALIAS);
      const missing = await as(PROVIDER, 'GenerateDataKey', { KeyId: 'alias/no-such-alias' });
      expectHiddenAlias(missing, 'GenerateDataKey', 'alias/no-such-alias');
    });

    it('when it calls Encrypt, it answers 403 Forbidden.NoPermission', async () => {
      expectForbidden(await as(PROVIDER, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }), 'Encrypt', KEY_ID);
    });

    it('when it calls Decrypt on its own blob, it answers 403 Forbidden.NoPermission naming the blob’s key', async () => {
      const g = await as(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID });
      expectForbiddenBlob(await as(PROVIDER, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }), 'Decrypt', g.body.CiphertextBlob);
    });

    it('when it calls over V3, the same split holds', async () => {
      expect((await t.call(signedV3Request(PROVIDER, 'GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID }))).status).toBe(200);
      expectForbidden(await t.call(signedV3Request(PROVIDER, 'GenerateDataKey', { KeyId: KEY_ID })), 'GenerateDataKey', KEY_ID);
    });
  });

  describe('CONSUMER (only kms:Decrypt)', () => {
    it('when it decrypts blobs of either key, it gets the plaintext', async () => {
      expect((await as(CONSUMER, 'Decrypt', { CiphertextBlob: keyBlob })).body.Plaintext).toBe('under KEY_ID');
      expect((await as(CONSUMER, 'Decrypt', { CiphertextBlob: otherBlob })).body.Plaintext).toBe('under OTHER_KEY_ID');
    });

    it.each([
      ['GenerateDataKey', { KeyId: KEY_ID }],
      ['GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID }],
      ['Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }],
    ])('when it calls %s, it answers 403 Forbidden.NoPermission', async (action, params) => {
      expectForbidden(await as(CONSUMER, action, params), action, KEY_ID);
    });
  });

  describe('SCOPED (kms:* on KEY_ID only, Decrypt denied)', () => {
    it.each([
      ['GenerateDataKey', { KeyId: KEY_ID }],
      ['GenerateDataKey', { KeyId: ALIAS }],
      ['GenerateDataKeyWithoutPlaintext', { KeyId: KEY_ID }],
      ['Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }],
      ['Encrypt', { KeyId: keyArnOf(KEY_ID), Plaintext: 'x' }],
    ])('when it calls %s on KEY_ID (%o), it is allowed', async (action, params) => {
      const r = await as(SCOPED, action, params);
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(KEY_ID);
    });

    it.each([
      ['GenerateDataKey', { KeyId: OTHER_KEY_ID }],
      ['GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID }],
      ['Encrypt', { KeyId: OTHER_KEY_ID, Plaintext: 'x' }],
    ])('when it calls %s on OTHER_KEY_ID (%o), it answers 403 Forbidden.NoPermission', async (action, params) => {
      expectForbidden(await as(SCOPED, action, params), action, OTHER_KEY_ID);
    });

    it('when it calls GenerateDataKey on alias/other, it answers as for a missing alias', async () => {
      expectHiddenAlias(await as(SCOPED, 'GenerateDataKey', { KeyId: 'alias/other' }), 'GenerateDataKey', 'alias/other');
    });

    it('when it calls Decrypt on a KEY_ID blob, the explicit Deny wins over kms:* and it answers 403', async () => {
      expectForbiddenBlob(await as(SCOPED, 'Decrypt', { CiphertextBlob: keyBlob }), 'Decrypt', keyBlob);
    });

    it('when it calls Decrypt on its own fresh blob, it still answers 403', async () => {
      const g = await as(SCOPED, 'GenerateDataKey', { KeyId: KEY_ID });
      expect(g.status).toBe(200);
      expectForbiddenBlob(await as(SCOPED, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }), 'Decrypt', g.body.CiphertextBlob);
    });

    it('when it calls Decrypt with DryRun=true, it still answers 403', async () => {
      expectForbiddenBlob(await as(SCOPED, 'Decrypt', { CiphertextBlob: keyBlob, DryRun: 'true' }), 'Decrypt', keyBlob);
    });

    it('when it calls Decrypt on an OTHER_KEY_ID blob, it answers 403 naming the blob’s version, not its key', async () => {
      expectForbiddenBlob(await as(SCOPED, 'Decrypt', { CiphertextBlob: otherBlob }), 'Decrypt', otherBlob);
    });
  });

  describe('Decrypt is authorised on the key the blob names', () => {
    it('when the caller may Decrypt only under OTHER_KEY_ID, a blob of OTHER_KEY_ID decrypts', async () => {
      const d = await as(OTHER_ONLY, 'Decrypt', { CiphertextBlob: otherBlob });
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe('under OTHER_KEY_ID');
    });

    it('when the caller may Decrypt only under OTHER_KEY_ID, a blob of KEY_ID answers 403 without naming KEY_ID', async () => {
      expectForbiddenBlob(await as(OTHER_ONLY, 'Decrypt', { CiphertextBlob: keyBlob }), 'Decrypt', keyBlob);
    });

    it('when the caller also passes KeyId=OTHER_KEY_ID with a KEY_ID blob, the parameter does not change the decision', async () => {
      const r = await as(OTHER_ONLY, 'Decrypt', { CiphertextBlob: keyBlob, KeyId: OTHER_KEY_ID });
      expectForbiddenBlob(r, 'Decrypt', keyBlob);
    });

    it('when the caller may Decrypt only under OTHER_KEY_ID, it may not call the other actions there', async () => {
      expectForbidden(await as(OTHER_ONLY, 'GenerateDataKey', { KeyId: OTHER_KEY_ID }), 'GenerateDataKey', OTHER_KEY_ID);
    });
  });

  describe('ADMIN (kms:* on *)', () => {
    it.each([
      ['GenerateDataKey', { KeyId: OTHER_KEY_ID }],
      ['GenerateDataKeyWithoutPlaintext', { KeyId: OTHER_KEY_ID }],
      ['Encrypt', { KeyId: OTHER_KEY_ID, Plaintext: 'x' }],
    ])('when it calls %s, it is allowed', async (action, params) => {
      expect((await as(ADMIN, action, params)).status).toBe(200);
    });
  });
});
