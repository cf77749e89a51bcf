import { Readable } from 'node:stream';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applySeed } from '../../lib/seed.js';
import { fromFcEvent, toFcResult } from '../../lib/adapters/alibaba-fc/adapter.js';
import type { FcHttpEvent, FcHttpResult } from '../../lib/adapters/alibaba-fc/types.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { rpcParams } from '../../lib/rpc/params.js';
import { formDecode } from '@alibaba-kms-compatible/client/signing';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { createService } from '../../lib/service.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedAwsRequest, signedRpcRequest, signedV3Request } from '../helpers/sign.js';

/** Every character RFC 3986 encoding and form decoding disagree on, plus UTF-8 and a space. */
const AWKWARD = "+ / = * ! ' ( ) ~ 中 space";

function baseEvent(overrides: Partial<FcHttpEvent> = {}): FcHttpEvent {
  return {
    version: 'v1',
    rawPath: '/',
    body: '',
    isBase64Encoded: false,
    headers: {},
    queryParameters: {},
    requestContext: {
      accountId: '1234567890123456',
      domainName: 'kms-abc.cn-hangzhou.fcapp.run',
      domainPrefix: 'kms-abc',
      http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: '1-64f6cd87-0123456789abcdef01234567',
      time: '2023-09-05T06:41:11Z',
      timeEpoch: '1693896071895',
    },
    ...overrides,
  };
}

/**
 * A signed RpcRequest as an FC HTTP trigger delivers it: JSON in a Buffer, header names in the
 * caller's case, the query decoded into an object, a body as text or Base64.
 */
function fcEvent(request: RpcRequest, options: { base64Body?: boolean } = {}): Buffer {
  const queryParameters: Record<string, string> = {};
  for (const pair of request.rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    queryParameters[formDecode(pair.slice(0, eq))!] = formDecode(pair.slice(eq + 1))!;
  }
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()), value!]),
  );
  const base = baseEvent();
  const event = baseEvent({
    rawPath: request.path,
    headers,
    queryParameters,
    body: request.body.toString(options.base64Body ? 'base64' : 'utf8'),
    isBase64Encoded: options.base64Body ?? false,
    requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method: request.method, path: request.path } },
  });
  return Buffer.from(JSON.stringify(event));
}

describe('Adapter: Alibaba Function Compute 3.0 HTTP trigger', () => {
  describe('Function: fromFcEvent', () => {
    const event = baseEvent({
      headers: { Host: 'kms-abc.cn-hangzhou.fcapp.run', 'X-Acs-Action': 'DescribeKey', 'Content-Type': 'text/plain' },
      queryParameters: { KeyId: 'alias/test' },
    });

    it('when the event is a Buffer of JSON, it yields the method, path, query, lower-cased headers and source IP', () => {
      expect(fromFcEvent(Buffer.from(JSON.stringify(event)))).toEqual({
        method: 'GET',
        path: '/',
        rawQuery: 'KeyId=alias%2Ftest',
        headers: { host: 'kms-abc.cn-hangzhou.fcapp.run', 'x-acs-action': 'DescribeKey', 'content-type': 'text/plain' },
        body: Buffer.alloc(0),
        sourceIp: '203.0.113.7',
      });
    });

    it('when the event is a string of JSON, or already parsed, it yields the same request', () => {
      const fromBuffer = fromFcEvent(Buffer.from(JSON.stringify(event)));
      expect(fromFcEvent(JSON.stringify(event))).toEqual(fromBuffer);
      expect(fromFcEvent(event)).toEqual(fromBuffer);
    });

    it('when a header was repeated, FC joined its values with commas and they pass through as one value', () => {
      const request = fromFcEvent(baseEvent({ headers: { 'X-Forwarded-For': '198.51.100.1,203.0.113.7', Accept: 'application/json,text/xml' } }));
      expect(request.headers['x-forwarded-for']).toBe('198.51.100.1,203.0.113.7');
      expect(request.headers.accept).toBe('application/json,text/xml');
    });

    it('when two header names differ only in case, their values are joined under the lower-case name', () => {
      expect(fromFcEvent(baseEvent({ headers: { 'X-Trace': 'a', 'x-trace': 'b' } })).headers['x-trace']).toBe('a, b');
    });

    it('when the body is Base64-encoded, it is decoded; otherwise it is taken as UTF-8 text', () => {
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      expect(fromFcEvent(baseEvent({ body: bytes.toString('base64'), isBase64Encoded: true })).body).toEqual(bytes);
      expect(fromFcEvent(baseEvent({ body: 'Action=Decrypt&中=1', isBase64Encoded: false })).body).toEqual(Buffer.from('Action=Decrypt&中=1', 'utf8'));
      expect(fromFcEvent(baseEvent({ body: undefined })).body).toEqual(Buffer.alloc(0));
    });

    it(`when query values hold ${AWKWARD}, the raw query is their RFC 3986 encoding and parses back to them`, () => {
      const request = fromFcEvent(baseEvent({ queryParameters: { EncryptionContext: `{"k":"${AWKWARD}"}`, 'a b': AWKWARD, Empty: '' } }));
      expect(request.rawQuery).toBe(
        'EncryptionContext=%7B%22k%22%3A%22%2B%20%2F%20%3D%20%2A%20%21%20%27%20%28%20%29%20~%20%E4%B8%AD%20space%22%7D' +
          '&a%20b=%2B%20%2F%20%3D%20%2A%20%21%20%27%20%28%20%29%20~%20%E4%B8%AD%20space&Empty=',
      );
      expect([...rpcParams(request).all]).toEqual([
        ['EncryptionContext', `{"k":"${AWKWARD}"}`],
        ['a b', AWKWARD],
        ['Empty', ''],
      ]);
    });

    it('when a query value holds a comma (a repeated parameter looks the same), it is kept whole', () => {
      expect(fromFcEvent(baseEvent({ queryParameters: { EncryptionContext: '{"a":"1","b":"2"}' } })).rawQuery).toBe(
        'EncryptionContext=%7B%22a%22%3A%221%22%2C%22b%22%3A%222%22%7D',
      );
    });
  });

  describe('Function: toFcResult', () => {
    it('when a response is translated, it keeps status, headers and body and says the body is not Base64', () => {
      expect(toFcResult({ statusCode: 404, headers: { 'content-type': 'application/json' }, body: '{"Code":"x"}' })).toEqual({
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"Code":"x"}',
        isBase64Encoded: false,
      });
    });
  });

  describe('Handler: fcHandler of the functions', () => {
    let generateDataKey: typeof import('../../functions/generate-data-key.js');
    let decrypt: typeof import('../../functions/decrypt.js');
    let dispatch: typeof import('../../functions/dispatch.js');
    const json = (result: FcHttpResult) => JSON.parse(result.body) as Record<string, any>;

    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kms-fc-'));
      await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
      Object.assign(process.env, { KMS_DATA_DIR: dir, KMS_REGION: REGION, KMS_ACCOUNT_ID: ACCOUNT_ID, KMS_LOG_LEVEL: 'silent' });
      generateDataKey = await import('../../functions/generate-data-key.js');
      decrypt = await import('../../functions/decrypt.js');
      dispatch = await import('../../functions/dispatch.js');
    });

    it.each([
      ['not JSON', Buffer.from('not json at all')],
      ['JSON that is no HTTP event', Buffer.from('{"events":[]}')],
      ['an empty buffer', Buffer.alloc(0)],
    ])('when the event is %s, it answers 400 MalformedRequest with an Alibaba body, not a platform error', async (_name, event) => {
      const r = await generateDataKey.fcHandler(event);
      expect(r.statusCode).toBe(400);
      expect(json(r).Code).toBe('MalformedRequest');
    });

    it('when a body is over 64 KiB, it answers 413 RequestEntityTooLarge, as the gateway does', async () => {
      const big = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: 'x'.repeat(70_000) }, { method: 'POST', form: true });
      for (const base64Body of [false, true]) {
        const r = await generateDataKey.fcHandler(fcEvent(big, { base64Body }));
        expect(r.statusCode).toBe(413);
        expect(json(r).Code).toBe('RequestEntityTooLarge');
      }
    });

    it('when GenerateDataKey comes as an RPC GET query and Decrypt as an RPC POST form body, the data key round-trips', async () => {
      const context = `{"purpose":"${AWKWARD}"}`;
      const g = await generateDataKey.fcHandler(fcEvent(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: context })));
      expect(g).toMatchObject({ statusCode: 200, isBase64Encoded: false });
      const generated = json(g);
      expect(generated.KeyId).toBe(KEY_ID);
      const form = signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }, { method: 'POST', form: true });
      const d = await decrypt.fcHandler(fcEvent(form));
      expect(d.statusCode).toBe(200);
      expect(json(d).Plaintext).toBe(generated.Plaintext);
      // The same form, delivered Base64-encoded, is the same request.
      const again = signedRpcRequest(
        ADMIN,
        'Decrypt',
        { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context },
        { method: 'POST', form: true },
      );
      expect(json(await decrypt.fcHandler(fcEvent(again, { base64Body: true }))).Plaintext).toBe(generated.Plaintext);
    });

    it('when both calls are V3 (ACS3-HMAC-SHA256), the data key round-trips', async () => {
      const g = await generateDataKey.fcHandler(fcEvent(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, EncryptionContext: `{"a":"${AWKWARD}"}` })));
      expect(g.statusCode).toBe(200);
      const generated = json(g);
      const d = await decrypt.fcHandler(
        fcEvent(signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob, EncryptionContext: `{"a":"${AWKWARD}"}` })),
      );
      expect(d.statusCode).toBe(200);
      expect(json(d)).toMatchObject({ KeyId: KEY_ID, Plaintext: generated.Plaintext });
    });

    it('when the signature is wrong, the function answers 400 SignatureDoesNotMatch, not a 5xx', async () => {
      const wrong = { ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' };
      const rpc = await generateDataKey.fcHandler(fcEvent(signedRpcRequest(wrong, 'GenerateDataKey', { KeyId: ALIAS })));
      expect(rpc.statusCode).toBe(400);
      expect(json(rpc).Code).toBe('SignatureDoesNotMatch');
      const v3 = await generateDataKey.fcHandler(fcEvent(signedV3Request(wrong, 'GenerateDataKey', { KeyId: ALIAS })));
      expect(v3.statusCode).toBe(400);
      expect(json(v3).Code).toBe('SignatureDoesNotMatch');
    });

    it('when the dispatcher gets requests whose Action is only in a form body, it serves each Action', async () => {
      const formOnly = (request: RpcRequest): RpcRequest => {
        const { 'x-acs-action': _action, ...headers } = request.headers;
        return { ...request, headers };
      };
      const g = await dispatch.fcHandler(fcEvent(formOnly(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { method: 'POST', form: true }))));
      expect(g.statusCode).toBe(200);
      const generated = json(g);
      const d = await dispatch.fcHandler(
        fcEvent(formOnly(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob }, { method: 'POST', form: true }))),
      );
      expect(d.statusCode).toBe(200);
      expect(json(d).Plaintext).toBe(generated.Plaintext);
    });

    it('when a request signed for Decrypt reaches the GenerateDataKey function, it is refused as an unknown Action', async () => {
      const g = await generateDataKey.fcHandler(fcEvent(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: 'AAAA' })));
      expect(g.statusCode).toBe(404);
      expect(json(g).Code).toBe('InvalidAction.NotFound');
    });

    describe('as an FC 2.0 HTTP function: (request, response, context)', () => {
      /** What FC 2.0 hands an HTTP function: a body stream with fields, and a response to write to. */
      function fc2Call(request: RpcRequest) {
        const queries: Record<string, string> = {};
        for (const [name, value] of rpcParams({ ...request, body: Buffer.alloc(0), headers: {} }).query) queries[name] = value;
        const req = Object.assign(Readable.from(request.body.length ? [request.body] : []), {
          method: request.method,
          path: request.path,
          headers: { ...request.headers },
          queries,
          clientIP: '127.0.0.1',
        });
        const answer = { status: 0, headers: {} as Record<string, string>, body: '' };
        const res = {
          setStatusCode: (code: number) => {
            answer.status = code;
          },
          setHeader: (name: string, value: string) => {
            answer.headers[name] = value;
          },
          send: (body: string | Buffer) => {
            answer.body = body.toString();
          },
        };
        return { req, res, answer };
      }

      it('when GenerateDataKey (V3) and Decrypt (RPC form body) arrive that way, the data key round-trips through the response object', async () => {
        const g = fc2Call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }));
        expect(await generateDataKey.fcHandler(g.req, g.res, {})).toBeUndefined();
        expect(g.answer.status).toBe(200);
        expect(g.answer.headers['content-type']).toMatch(/^application\/json/);
        const generated = JSON.parse(g.answer.body) as Record<string, string>;
        const d = fc2Call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: generated.CiphertextBlob! }, { method: 'POST', form: true }));
        await decrypt.fcHandler(d.req, d.res, {});
        expect(d.answer.status).toBe(200);
        expect(JSON.parse(d.answer.body).Plaintext).toBe(generated.Plaintext);
      });

      it('when the signature is wrong, it answers 400 SignatureDoesNotMatch through the response object', async () => {
        const g = fc2Call(signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: ALIAS }));
        await generateDataKey.fcHandler(g.req, g.res, {});
        expect(g.answer.status).toBe(400);
        expect(JSON.parse(g.answer.body).Code).toBe('SignatureDoesNotMatch');
      });
    });
    it('when AWS Encrypt names RSAES_OAEP_SHA_256, the encrypt function serves it in process (AsymmetricEncrypt); Alibaba GenerateDataKey there is refused', async () => {
      const encrypt = await import('../../functions/encrypt.js');
      const created = json(await dispatch.fcHandler(fcEvent(signedAwsRequest(ADMIN, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))));
      const e = await encrypt.fcHandler(
        fcEvent(signedAwsRequest(ADMIN, 'Encrypt', { KeyId: created.KeyMetadata.KeyId, Plaintext: 'AQID', EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
      );
      expect(e.statusCode).toBe(200);
      expect(json(e).EncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256');
      const refused = await encrypt.fcHandler(fcEvent(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })));
      expect(refused.statusCode).toBe(404);
      expect(json(refused).Code).toBe('InvalidAction.NotFound');
    });
  });
});
