import { GenerateDataKeyCommand, GenerateRandomCommand } from '@aws-sdk/client-kms';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryNonceStore } from '../../lib/keystore/nonce-store.js';
import type { RpcRequest, RpcResponse } from '../../lib/rpc/request.js';
import { inProcessKmsClient } from '../helpers/aws.js';
import { ADMIN, createTestService, KEY_ID, type TestService } from '../helpers/service.js';
import { amzDateOf, signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/*
 * Replay on the AWS protocol, as AWS KMS answers it: an identical SigV4 request is served again
 * within the 15-minute window (boto3 and the AWS CLI sign no per-request id, so two identical calls
 * in one second are byte-identical); a request whose signature covers the AWS SDK's per-attempt id
 * (amz-sdk-invocation-id + amz-sdk-request attempt=N) is accepted once per access key, across
 * every instance sharing the nonce store. The Alibaba protocol's nonces are unchanged.
 */

let nonces: MemoryNonceStore;
let t: TestService;
beforeEach(async () => {
  nonces = new MemoryNonceStore();
  t = await createTestService({ nonces });
});

const typeOf = (r: RpcResponse) => (JSON.parse(r.body) as { __type?: string }).__type;
const copy = (r: RpcRequest): RpcRequest => ({ ...r, headers: { ...r.headers }, body: Buffer.from(r.body) });

describe('identical SigV4 requests without a signed attempt id are served, as AWS serves them', () => {
  it.each([
    ['as the AWS CLI v2 sends them (no amz-sdk-* headers)', { invocationId: null }],
    [
      'as boto3 sends them (amz-sdk-invocation-id and amz-sdk-request sent, not signed)',
      { sdkRequest: 'attempt=1', unsigned: ['amz-sdk-invocation-id', 'amz-sdk-request'] },
    ],
    ['with only amz-sdk-invocation-id signed (no attempt number)', {}],
    ['with only amz-sdk-request signed', { sdkRequest: 'attempt=1; max=3', unsigned: ['amz-sdk-invocation-id'] }],
  ] as const)('%s: the same bytes five times, five answers', async (_how, options) => {
    const request = signedAwsRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, KeySpec: 'AES_256' }, options as never);
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await t.dispatch(copy(request));
      expect(r.statusCode, r.body).toBe(200);
      keys.add(JSON.parse(r.body).CiphertextBlob as string);
    }
    // Each is a new data key: the request is served again, not an answer replayed from a cache.
    expect(keys.size).toBe(5);
    expect(nonces.size).toBe(0);
  });

  it('an identical request outside the 15-minute window is refused (the window is what bounds replay)', async () => {
    const old = signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, { invocationId: null, amzDate: amzDateOf(Date.now() - 15 * 60_000 - 2_000) });
    expect(typeOf(await t.dispatch(old))).toBe('InvalidSignatureException');
  });
});

describe('a signed per-attempt id (the AWS SDK for JavaScript v3) is accepted once per access key', () => {
  it('the real @aws-sdk/client-kms signs amz-sdk-invocation-id and amz-sdk-request; its request replayed is InvalidSignatureException, here and on a second instance sharing the nonce store', async () => {
    const seen: RpcRequest[] = [];
    const kms = inProcessKmsClient(t, ADMIN, { onExchange: (request) => void seen.push(copy(request)) });
    await kms.send(new GenerateDataKeyCommand({ KeyId: KEY_ID, KeySpec: 'AES_256' }));
    const [captured] = seen;
    const signed = /SignedHeaders=([^,]+)/.exec(captured!.headers.authorization!)![1]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['amz-sdk-invocation-id', 'amz-sdk-request']));
    expect(captured!.headers['amz-sdk-request']).toMatch(/^attempt=1; max=\d+$/);

    const replay = await t.dispatch(copy(captured!));
    expect(replay.statusCode).toBe(400);
    expect(JSON.parse(replay.body)).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringMatching(/nonce has been used/) });

    const second = await createTestService({ store: t.store, seed: false, nonces });
    expect(typeOf(await second.dispatch(copy(captured!)))).toBe('InvalidSignatureException');
    // The same request reaches a second instance with a store of its own: it is the shared store that refuses.
    const isolated = await createTestService({ store: t.store, seed: false });
    expect((await isolated.dispatch(copy(captured!))).statusCode).toBe(200);
  });

  it('when the SDK retries (its first answer lost on the way), the next attempt of the same invocation is accepted', async () => {
    const attempts: string[] = [];
    const kms = inProcessKmsClient(t, ADMIN, {
      maxAttempts: 3,
      onExchange(request, response) {
        attempts.push(`${request.headers['amz-sdk-invocation-id']} ${request.headers['amz-sdk-request']}`);
        // The first attempt was served (and its nonce claimed), but the client sees a 503.
        if (attempts.length === 1)
          return {
            statusCode: 503,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: '{"__type":"DependencyTimeoutException","message":"lost"}',
          };
        return response;
      },
    });
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
    expect(attempts).toHaveLength(2);
    const [first, second] = attempts.map((a) => a.split(' '));
    expect(second![0]).toBe(first![0]);
    expect([first![1], second![1]]).toEqual(['attempt=1;', 'attempt=2;']);
  });

  it('by hand: the same invocation id and attempt twice is refused; a new attempt number, or a new invocation id, is accepted; the id is per access key', async () => {
    const invocationId = randomUUID();
    const sign = (attempt: string, id = invocationId, who = ADMIN) =>
      signedAwsRequest(who, 'GenerateRandom', { NumberOfBytes: 8 }, { invocationId: id, sdkRequest: attempt });
    expect((await t.dispatch(sign('attempt=1; max=3'))).statusCode).toBe(200);
    expect(typeOf(await t.dispatch(sign('attempt=1; max=3')))).toBe('InvalidSignatureException');
    // Another signature (another body or date) with the same id and attempt is the same attempt.
    expect(typeOf(await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 9 }, { invocationId, sdkRequest: 'attempt=1; max=3' })))).toBe(
      'InvalidSignatureException',
    );
    expect((await t.dispatch(sign('attempt=2; max=3'))).statusCode).toBe(200);
    expect((await t.dispatch(sign('ttl=20261207T000000Z; attempt=3; max=3'))).statusCode).toBe(200);
    expect((await t.dispatch(sign('attempt=1; max=3', randomUUID()))).statusCode).toBe(200);
    // Another access key's nonces are its own.
    const OTHER = { accessKeyId: 'awsReplayOther01', accessKeySecret: 'aws-replay-other-secret-0123' };
    await t.service.accessKeys.create({
      ...OTHER,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
    });
    expect((await t.dispatch(sign('attempt=1; max=3', invocationId, OTHER))).statusCode).toBe(200);
  });

  it('a request whose signature does not verify burns no attempt: the genuine one is still accepted', async () => {
    const invocationId = randomUUID();
    const forged = signedAwsRequest(
      { ...ADMIN, accessKeySecret: 'not-the-secret-000000' },
      'GenerateRandom',
      { NumberOfBytes: 8 },
      { invocationId, sdkRequest: 'attempt=1' },
    );
    expect(typeOf(await t.dispatch(forged))).toBe('InvalidSignatureException');
    expect((await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, { invocationId, sdkRequest: 'attempt=1' }))).statusCode).toBe(200);
  });

  it.each([
    ['amz-sdk-request without attempt=N', { sdkRequest: 'max=3' }],
    ['amz-sdk-request with a non-numeric attempt', { sdkRequest: 'attempt=one; max=3' }],
    ['an empty amz-sdk-invocation-id', { invocationId: '', sdkRequest: 'attempt=1' }],
    ['an amz-sdk-invocation-id with a space', { invocationId: 'a b', sdkRequest: 'attempt=1' }],
    ['an amz-sdk-invocation-id over 128 characters', { invocationId: 'x'.repeat(129), sdkRequest: 'attempt=1' }],
  ])('when the signed id is malformed (%s), it is IncompleteSignatureException', async (_what, options) => {
    const r = await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, options));
    expect(r.statusCode).toBe(400);
    expect(typeOf(r)).toBe('IncompleteSignatureException');
  });
});

describe('the Alibaba protocol keeps its nonces', () => {
  it('an identical RPC request, and an identical V3 request, is refused the second time (SignatureNonceUsed)', async () => {
    const rpc = signedRpcRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: '8' });
    expect((await t.call(rpc)).status).toBe(200);
    const again = await t.call(rpc);
    expect([again.status, again.body.Code]).toEqual([400, 'SignatureNonceUsed']);
    const v3 = signedV3Request(ADMIN, 'GenerateRandom', { NumberOfBytes: '8' });
    expect((await t.call(v3)).status).toBe(200);
    expect((await t.call(v3)).body.Code).toBe('SignatureNonceUsed');
  });

  it('no Alibaba nonce can take an AWS attempt id: those are claimed with spaces, which an Alibaba nonce may not hold', async () => {
    const invocationId = randomUUID();
    const spelled = await t.call(signedRpcRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: '8' }, { nonce: `amz-sdk ${invocationId} 1` }));
    expect([spelled.status, spelled.body.Code]).toEqual([400, 'IncompleteSignature']);
    expect((await t.call(signedRpcRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: '8' }, { nonce: invocationId }))).status).toBe(200);
    expect((await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, { invocationId, sdkRequest: 'attempt=1' }))).statusCode).toBe(200);
  });
});
