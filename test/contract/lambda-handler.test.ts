import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ALBEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { applySeed } from '../../lib/seed.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { createService } from '../../lib/service.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

const context = {} as Context;

function apiGatewayEvent(request: RpcRequest): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.rawQuery,
    headers: { ...request.headers } as Record<string, string>,
    body: request.body.length ? request.body.toString('base64') : undefined,
    isBase64Encoded: request.body.length > 0,
    requestContext: { http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
  } as unknown as APIGatewayProxyEventV2;
}

/** ALB passes query values as they arrived, still percent-encoded. */
function albEvent(request: RpcRequest): ALBEvent {
  const query: Record<string, string> = {};
  for (const pair of request.rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    query[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/kms/1' } },
    httpMethod: request.method,
    path: request.path,
    queryStringParameters: query,
    headers: { ...request.headers } as Record<string, string>,
    body: request.body.toString('utf8'),
    isBase64Encoded: false,
  };
}

describe('Adapter: AWS Lambda handlers of the functions', () => {
  let generateDataKey: typeof import('../../functions/generate-data-key.js');
  let decrypt: typeof import('../../functions/decrypt.js');

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-lambda-'));
    await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
    Object.assign(process.env, { KMS_DATA_DIR: dir, KMS_REGION: REGION, KMS_ACCOUNT_ID: ACCOUNT_ID, KMS_LOG_LEVEL: 'silent' });
    generateDataKey = await import('../../functions/generate-data-key.js');
    decrypt = await import('../../functions/decrypt.js');
  });

  it('when API Gateway (payload 2.0) invokes GenerateDataKey and Decrypt, the data key round-trips', async () => {
    const g = await generateDataKey.handler(apiGatewayEvent(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })), context);
    expect(g.statusCode).toBe(200);
    const generated = JSON.parse(g.body as string);
    expect(generated.KeyId).toBe(KEY_ID);
    const d = await decrypt.handler(
      apiGatewayEvent(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob }, { method: 'POST', form: true })),
      context,
    );
    expect(d.statusCode).toBe(200);
    expect(JSON.parse(d.body as string).Plaintext).toBe(generated.Plaintext);
  });

  it('when an ALB invokes them, query values still percent-encoded, the data key round-trips and the result has a status description', async () => {
    const g = await generateDataKey.handler(
      albEvent(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: '{"a b":"c+d/e="}' })),
      context,
    );
    expect(g).toMatchObject({ statusCode: 200, statusDescription: '200 OK' });
    const generated = JSON.parse(g.body as string);
    const d = await decrypt.handler(
      albEvent(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: '{"a b":"c+d/e="}' })),
      context,
    );
    expect(JSON.parse(d.body as string).Plaintext).toBe(generated.Plaintext);
  });

  it('when a request signed for Decrypt reaches the GenerateDataKey function, it is refused as an unknown Action', async () => {
    const g = await generateDataKey.handler(apiGatewayEvent(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: 'AAAA' })), context);
    expect(g.statusCode).toBe(404);
    expect(JSON.parse(g.body as string).Code).toBe('InvalidAction.NotFound');
  });

  it('when the signature is wrong, the function answers 400 SignatureDoesNotMatch, not a 5xx', async () => {
    const g = await generateDataKey.handler(
      apiGatewayEvent(signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: ALIAS })),
      context,
    );
    expect(g.statusCode).toBe(400);
    expect(JSON.parse(g.body as string).Code).toBe('SignatureDoesNotMatch');
  });

  it('when a body is over 64 KiB, it answers 413 RequestEntityTooLarge with an Alibaba body, as the gateway does', async () => {
    const big = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: 'x'.repeat(70_000) }, { method: 'POST', form: true });
    for (const event of [apiGatewayEvent(big), albEvent(big)]) {
      const r = await generateDataKey.handler(event, context);
      expect(r.statusCode).toBe(413);
      expect(JSON.parse(r.body as string).Code).toBe('RequestEntityTooLarge');
    }
  });

  it.each([
    ['no requestContext', { rawPath: '/', headers: {} }],
    ['a scheduler event', { source: 'aws.events', 'detail-type': 'Scheduled Event' }],
    ['an API Gateway event without http', { version: '2.0', requestContext: {} }],
  ])('when the event is not an HTTP request (%s), it answers 400 MalformedRequest, not a platform 5xx', async (_name, event) => {
    const r = await generateDataKey.handler(event as never, context);
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body as string).Code).toBe('MalformedRequest');
  });
});
