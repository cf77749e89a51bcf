import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { wrapMaterial } from '../../lib/crypto/import-wrap.js';
import type { RpcRequest, RpcResponse } from '../../lib/rpc/request.js';
import { ACCOUNT_ID, ADMIN, ALIAS, CONSUMER, createTestService, DISABLED_KEY_ID, KEY_ID, REGION, type TestService } from '../helpers/service.js';
import { amzDateOf, signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';

/* What the AWS protocol promises beyond the operations' shapes: key states, strict bodies, AWS's wording. */

let t: TestService;
beforeEach(async () => {
  t = await createTestService();
});

const aws = (operation: string, body: unknown, options: Parameters<typeof signedAwsRequest>[3] = {}) =>
  t.dispatch(signedAwsRequest(ADMIN, operation, body, options));
const answer = (r: RpcResponse) => JSON.parse(r.body) as Record<string, any>;
async function awsOk(operation: string, body: unknown): Promise<Record<string, any>> {
  const r = await aws(operation, body);
  expect(r.statusCode, `${operation}: ${r.body}`).toBe(200);
  return answer(r);
}
async function alibabaOk(action: string, params: Record<string, string>): Promise<Record<string, any>> {
  const r = await t.call(signedRpcRequest(ADMIN, action, params));
  expect(r.status, `${action}: ${r.raw}`).toBe(200);
  return r.body;
}
const awsState = async (keyId: string) => (await awsOk('DescribeKey', { KeyId: keyId })).KeyMetadata as Record<string, unknown>;
const newKey = async (origin?: 'EXTERNAL') => (await awsOk('CreateKey', origin ? { Origin: origin } : {})).KeyMetadata.KeyId as string;
async function importMaterial(keyId: string): Promise<void> {
  const p = await alibabaOk('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  await alibabaOk('ImportKeyMaterial', {
    KeyId: keyId,
    ImportToken: p.ImportToken,
    EncryptedKeyMaterial: wrapMaterial(p.PublicKey, 'RSAES_OAEP_SHA_256', randomBytes(32)),
  });
}

describe('CancelKeyDeletion leaves the state each API documents', () => {
  it.each([
    ['an Enabled key', async () => newKey()],
    [
      'a Disabled key',
      async () => {
        const keyId = await newKey();
        await awsOk('DisableKey', { KeyId: keyId });
        return keyId;
      },
    ],
    [
      'an EXTERNAL key with its material',
      async () => {
        const keyId = await newKey('EXTERNAL');
        await importMaterial(keyId);
        return keyId;
      },
    ],
  ])(
    'AWS: %s scheduled for deletion and cancelled is Disabled (AWS: "the key state of the KMS key is Disabled"); EnableKey makes it usable again',
    async (_what, make) => {
      const keyId = await make();
      const blob = (await awsOk('Encrypt', { KeyId: KEY_ID, Plaintext: Buffer.from('kept').toString('base64') })).CiphertextBlob;
      await awsOk('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
      expect(await awsOk('CancelKeyDeletion', { KeyId: keyId })).toEqual({ KeyId: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${keyId}` });
      const m = await awsState(keyId);
      expect(m).toMatchObject({ KeyState: 'Disabled', Enabled: false });
      expect(m.DeletionDate).toBeUndefined();
      expect(answer(await aws('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32 })).__type).toBe('DisabledException');
      await awsOk('EnableKey', { KeyId: keyId });
      expect((await awsOk('GenerateDataKey', { KeyId: keyId, NumberOfBytes: 32 })).Plaintext).toBeDefined();
      expect(Buffer.from((await awsOk('Decrypt', { CiphertextBlob: blob })).Plaintext, 'base64').toString()).toBe('kept');
    },
  );

  it('AWS: an EXTERNAL key without material (never imported, or deleted while pending deletion) returns to PendingImport', async () => {
    const never = await newKey('EXTERNAL');
    await awsOk('ScheduleKeyDeletion', { KeyId: never, PendingWindowInDays: 7 });
    await awsOk('CancelKeyDeletion', { KeyId: never });
    expect(await awsState(never)).toMatchObject({ KeyState: 'PendingImport', Enabled: false });

    const deleted = await newKey('EXTERNAL');
    await importMaterial(deleted);
    await awsOk('ScheduleKeyDeletion', { KeyId: deleted, PendingWindowInDays: 7 });
    await alibabaOk('DeleteKeyMaterial', { KeyId: deleted });
    await awsOk('CancelKeyDeletion', { KeyId: deleted });
    expect((await awsState(deleted)).KeyState).toBe('PendingImport');
  });

  it.each(['Enabled', 'Disabled'])('Alibaba: a key that was %s, cancelled, is Enabled (Alibaba: "the CMK returns to the Enabled state")', async (before) => {
    const keyId = (await alibabaOk('CreateKey', {})).KeyMetadata.KeyId as string;
    if (before === 'Disabled') await alibabaOk('DisableKey', { KeyId: keyId });
    await alibabaOk('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' });
    await alibabaOk('CancelKeyDeletion', { KeyId: keyId });
    expect((await alibabaOk('DescribeKey', { KeyId: keyId })).KeyMetadata).toMatchObject({ KeyState: 'Enabled', DeleteDate: '' });
  });

  it('the API of the cancellation decides, whichever scheduled it', async () => {
    const viaAws = await newKey();
    await awsOk('ScheduleKeyDeletion', { KeyId: viaAws, PendingWindowInDays: 7 });
    await alibabaOk('CancelKeyDeletion', { KeyId: viaAws });
    expect((await awsState(viaAws)).KeyState).toBe('Enabled');
    const viaAlibaba = await newKey();
    await alibabaOk('ScheduleKeyDeletion', { KeyId: viaAlibaba, PendingWindowInDays: '7' });
    await awsOk('CancelKeyDeletion', { KeyId: viaAlibaba });
    expect((await awsState(viaAlibaba)).KeyState).toBe('Disabled');
  });
});

describe('AWS bodies are read strictly (the signature covers the raw bytes, so only the decoding can differ)', () => {
  const raw = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => Buffer.from(p as never)));
  const dataKeyBody = (value: number[], where: 'value' | 'key' = 'value') =>
    where === 'value'
      ? raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"EncryptionContext":{"t":"`, value, '"}}')
      : raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"EncryptionContext":{"`, value, '":"v"}}');

  it.each([
    ['\\xFF in a context value', dataKeyBody([0xff])],
    ['\\xFE in a context value', dataKeyBody([0xfe])],
    ['an overlong encoding in a context value', dataKeyBody([0xc1, 0xbf])],
    ['an encoded surrogate in a context value', dataKeyBody([0xed, 0xb0, 0x80])],
    ['\\xFF in a context key', dataKeyBody([0xff], 'key')],
    ['an overlong NUL in a context key', dataKeyBody([0xc0, 0x80], 'key')],
    ['an encoded surrogate in a context key', dataKeyBody([0xed, 0xa0, 0x80], 'key')],
    ['a key given twice at the top level', raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"KeyId":"alias/other"}`)],
    ['a key given twice in the EncryptionContext', raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"EncryptionContext":{"a":"1","a":"2"}}`)],
    ['an escaped duplicate in the EncryptionContext', raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"EncryptionContext":{"a":"1","\\u0061":"2"}}`)],
    ['an escaped duplicate at the top level', raw(`{"KeyId":"${KEY_ID}","\\u004eumberOfBytes":16,"NumberOfBytes":32}`)],
  ])('%s: 400 SerializationException, and no data key', async (_what, body) => {
    const r = await aws('GenerateDataKey', null, { body });
    expect(r.statusCode).toBe(400);
    expect(answer(r)).toMatchObject({ __type: 'SerializationException' });
    expect(r.body).not.toContain('Plaintext');
  });

  it('a blob made under a valid context does not open under a context whose bytes a lax decoder would have read the same', async () => {
    const made = answer(await aws('GenerateDataKey', null, { body: raw(`{"KeyId":"${KEY_ID}","NumberOfBytes":32,"EncryptionContext":{"t":"\uFFFD"}}`) }));
    expect(made.CiphertextBlob).toBeDefined();
    for (const byte of [0xff, 0xfe, 0x80]) {
      const r = await aws('Decrypt', null, { body: raw(`{"CiphertextBlob":"${made.CiphertextBlob}","EncryptionContext":{"t":"`, [byte], '"}}') });
      expect(answer(r).__type).toBe('SerializationException');
    }
    expect((await aws('Decrypt', { CiphertextBlob: made.CiphertextBlob, EncryptionContext: { t: '\uFFFD' } })).statusCode).toBe(200);
  });
});

describe('AWS-protocol errors speak AWS, never Alibaba', () => {
  it('over a set of failing requests, every message is free of Alibaba’s names and conventions', async () => {
    const requests: Array<[string, RpcRequest]> = [
      ['a wrong secret', signedAwsRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000' }, 'ListKeys', {})],
      ['an unknown access key', signedAwsRequest({ accessKeyId: 'AKIANOSUCH000000', accessKeySecret: 'x' }, 'ListKeys', {})],
      ['a timestamp an hour old', signedAwsRequest(ADMIN, 'ListKeys', {}, { amzDate: amzDateOf(Date.now() - 3_600_000) })],
      ['month 13', signedAwsRequest(ADMIN, 'ListKeys', {}, { amzDate: '20261301T000000Z' })],
      ['a replayed SDK attempt', signedAwsRequest(ADMIN, 'ListKeys', {}, { invocationId: 'fixed-invocation', sdkRequest: 'attempt=1' })],
      ['a key of another account', signedAwsRequest(ADMIN, 'DescribeKey', { KeyId: `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}` })],
      ['a key in another region', signedAwsRequest(ADMIN, 'DescribeKey', { KeyId: `arn:aws:kms:eu-west-1:${ACCOUNT_ID}:key/${KEY_ID}` })],
      ['a key policy', signedAwsRequest(ADMIN, 'CreateKey', { Policy: '{}' })],
      ['a caller its policy denies', signedAwsRequest(CONSUMER, 'GenerateDataKey', { KeyId: KEY_ID, NumberOfBytes: 8 })],
      ['a disabled key', signedAwsRequest(ADMIN, 'GenerateDataKey', { KeyId: DISABLED_KEY_ID, NumberOfBytes: 8 })],
      ['a cancellation of a key not pending deletion', signedAwsRequest(ADMIN, 'CancelKeyDeletion', { KeyId: KEY_ID })],
      ['a short blob', signedAwsRequest(ADMIN, 'Decrypt', { CiphertextBlob: 'AAAA' })],
      ['a context of numbers', signedAwsRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, NumberOfBytes: 8, EncryptionContext: { a: 1 } })],
      ['an alias that exists', signedAwsRequest(ADMIN, 'CreateAlias', { AliasName: ALIAS, TargetKeyId: KEY_ID })],
      ['an unknown operation', signedAwsRequest(ADMIN, 'DeriveSharedSecret', {})],
      ['invalid JSON', signedAwsRequest(ADMIN, 'ListKeys', null, { body: Buffer.from('{') })],
      ['invalid UTF-8', signedAwsRequest(ADMIN, 'ListKeys', null, { body: Buffer.from([0x7b, 0xff, 0x7d]) })],
      ['a malformed signed attempt', signedAwsRequest(ADMIN, 'ListKeys', {}, { sdkRequest: 'max=3' })],
      ['a region not served', signedAwsRequest(ADMIN, 'ListKeys', {}, { region: 'eu-west-3' })],
      ['a bad marker', signedAwsRequest(ADMIN, 'ListKeys', { Marker: 'x' })],
    ];
    await t.dispatch(signedAwsRequest(ADMIN, 'ListKeys', {}, { invocationId: 'fixed-invocation', sdkRequest: 'attempt=1' }));
    const messages: string[] = [];
    for (const [what, request] of requests) {
      const r = await t.dispatch(request);
      expect(r.statusCode, what).toBeGreaterThanOrEqual(400);
      const { __type, message } = answer(r);
      expect(__type, what).toMatch(/Exception$/);
      messages.push(`${what}: ${message}`);
    }
    for (const message of messages) expect(message).not.toMatch(/Alibaba|Aliyun|AccessKeySecret|AccessKeyId|\bRAM\b|acs:kms:/i);
    expect(messages.find((m) => m.startsWith('a wrong secret'))).toContain('signature we calculated does not match');
    expect(messages.find((m) => m.startsWith('month 13'))).toContain('yyyyMMddTHHmmssZ');
    expect(messages.find((m) => m.startsWith('a key of another account'))).toContain(`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`);
    // A key of this deployment is named in the region the request was signed for, as its answers name it.
    for (const region of ['us-east-1', REGION]) {
      const denied = answer(await t.dispatch(signedAwsRequest(CONSUMER, 'DisableKey', { KeyId: KEY_ID }, { region })));
      expect(denied.message).toContain(`arn:aws:kms:${region}:${ACCOUNT_ID}:key/${KEY_ID}`);
    }
  });

  it('the same failures through the Alibaba API keep Alibaba’s wording', async () => {
    const r = await t.call(signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000' }, 'ListKeys', {}));
    expect(r.body).toMatchObject({ Code: 'SignatureDoesNotMatch', Message: expect.stringContaining('Alibaba Cloud standards') });
  });
});
