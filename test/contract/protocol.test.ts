import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { action as generateDataKey } from '../../functions/generate-data-key.js';
import { percentEncode, rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
import type { KeyStore, StoredEntry } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { buildRpcHandler } from '../../lib/middleware/stack.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { ADMIN, ALIAS, createTestService, KEY_ID, KEY_VERSION_ID, type TestService } from '../helpers/service.js';
import { type Credentials, isoSeconds, signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError, expectNoStackTrace, names, parseXml, withVersionId, XML_DECLARATION } from './support.js';

type CallResult = Awaited<ReturnType<TestService['call']>>;

/** RPC-signs exactly the given parameters (no defaults added), for requests that lack something on purpose. */
function rawRpcRequest(credentials: Credentials, params: Record<string, string>, headers: Record<string, string> = { host: '127.0.0.1:8080' }): RpcRequest {
  const all = { ...params, Signature: rpcSignature(credentials.accessKeySecret, rpcStringToSign('GET', Object.entries(params))) };
  const rawQuery = Object.entries(all)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return { method: 'GET', path: '/', rawQuery, headers, body: Buffer.alloc(0) };
}

function commonRpcParams(credentials: Credentials): Record<string, string> {
  return {
    Format: 'JSON',
    Version: '2016-01-20',
    AccessKeyId: credentials.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: isoSeconds(Date.now()),
  };
}

function withHeaders(request: RpcRequest, change: (headers: Record<string, string | undefined>) => void): RpcRequest {
  const headers = { ...request.headers };
  change(headers);
  return { ...request, headers };
}

const form = (params: Record<string, string>) =>
  Buffer.from(
    Object.entries(params)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&'),
  );

/** A key store that fails every read matching `failOn` once armed; a wrapper, not a mock of the store's behaviour. */
class FailingKeyStore implements KeyStore {
  armed = false;
  readonly changes: KeyStore['changes'];
  constructor(
    private readonly inner: KeyStore,
    private readonly failOn: (name: string) => boolean,
    private readonly message: string,
  ) {
    this.changes = inner.changes;
  }
  create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    return this.inner.create(name, value, options);
  }
  async get(name: string): Promise<StoredEntry | undefined> {
    if (this.armed && this.failOn(name)) throw new Error(this.message);
    return this.inner.get(name);
  }
  update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    return this.inner.update(name, expectedRevision, value);
  }
  delete(name: string, expectedRevision: number): Promise<void> {
    return this.inner.delete(name, expectedRevision);
  }
  destroy(name: string): Promise<void> {
    return this.inner.destroy(name);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
}

describe('Protocol', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });

  describe('client paths: GenerateDataKey then Decrypt', () => {
    const paths: Array<[string, (action: string, params: Record<string, string>) => RpcRequest]> = [
      ['RPC GET with a query', (action, params) => signedRpcRequest(ADMIN, action, params)],
      ['RPC POST with a query', (action, params) => signedRpcRequest(ADMIN, action, params, { method: 'POST' })],
      ['RPC POST with a form body', (action, params) => signedRpcRequest(ADMIN, action, params, { method: 'POST', form: true })],
      ['V3 with a query', (action, params) => signedV3Request(ADMIN, action, params)],
      ['V3 with a form body', (action, params) => signedV3Request(ADMIN, action, {}, { body: form(params), contentType: 'application/x-www-form-urlencoded' })],
      [
        'V3 with a form body (charset in the content type)',
        (action, params) => signedV3Request(ADMIN, action, {}, { body: form(params), contentType: 'application/x-www-form-urlencoded; charset=UTF-8' }),
      ],
    ];

    it.each(paths)('when the client uses %s, the data key round-trips (with an EncryptionContext)', async (_label, build) => {
      const context = JSON.stringify({ app: 'contract test', 'weird!*()': "a+b/c=d'" });
      const g = await t.call(build('GenerateDataKey', { KeyId: ALIAS, NumberOfBytes: '48', EncryptionContext: context }));
      expect(g.status).toBe(200);
      expect(g.body.KeyId).toBe(KEY_ID);
      expect(g.body.KeyVersionId).toBe(KEY_VERSION_ID);
      expect(Buffer.from(g.body.Plaintext, 'base64')).toHaveLength(48);
      const d = await t.call(build('Decrypt', { CiphertextBlob: g.body.CiphertextBlob, EncryptionContext: context }));
      expect(d.status).toBe(200);
      expect(d.body.Plaintext).toBe(g.body.Plaintext);
      expect(d.body.KeyId).toBe(KEY_ID);
    });

    it("when the V3 query comes as querystring.stringify writes it (!'()* unencoded), the signature still verifies", async () => {
      const text = "it's (a) *test*!";
      const request = signedV3Request(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: text });
      const sdkStyle = { ...request, rawQuery: `KeyId=${encodeURIComponent(KEY_ID)}&Plaintext=${encodeURIComponent(text)}` };
      expect(sdkStyle.rawQuery).toContain("'");
      const e = await t.call(sdkStyle);
      expect(e.status).toBe(200);
      const d = await t.call(signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: e.body.CiphertextBlob }));
      expect(d.body.Plaintext).toBe(text);
    });

    it('when a V3 form body is changed after signing, it answers 400 SignatureDoesNotMatch', async () => {
      const request = signedV3Request(
        ADMIN,
        'GenerateDataKey',
        {},
        {
          body: form({ KeyId: KEY_ID }),
          contentType: 'application/x-www-form-urlencoded',
          afterSigning: (r) => {
            r.body = form({ KeyId: 'alias/other' });
          },
        },
      );
      expectError(await t.call(request), 400, 'SignatureDoesNotMatch');
    });

    it('when a V3 body and its x-acs-content-sha256 are both changed after signing, it answers 400 SignatureDoesNotMatch', async () => {
      const request = signedV3Request(
        ADMIN,
        'GenerateDataKey',
        {},
        {
          body: form({ KeyId: KEY_ID }),
          contentType: 'application/x-www-form-urlencoded',
          afterSigning: (r) => {
            r.body = form({ KeyId: 'alias/other' });
            r.headers['x-acs-content-sha256'] = createHashHex(r.body);
          },
        },
      );
      expectError(await t.call(request), 400, 'SignatureDoesNotMatch');
    });

    it('when a V3 query value is changed after signing, it answers 400 SignatureDoesNotMatch', async () => {
      const request = signedV3Request(
        ADMIN,
        'GenerateDataKey',
        { KeyId: KEY_ID },
        {
          afterSigning: (r) => {
            r.rawQuery = 'KeyId=alias%2Fother';
          },
        },
      );
      expectError(await t.call(request), 400, 'SignatureDoesNotMatch');
    });

    it('when an RPC parameter is changed after signing, it answers 400 SignatureDoesNotMatch', async () => {
      const request = signedRpcRequest(
        ADMIN,
        'GenerateDataKey',
        { KeyId: KEY_ID },
        {
          afterSigning: (p) => {
            p.KeyId = 'alias/other';
          },
        },
      );
      expectError(await t.call(request), 400, 'SignatureDoesNotMatch');
    });

    it('when an RPC GET is sent as POST with the same signature, it answers 400 SignatureDoesNotMatch', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      expectError(await t.call({ ...request, method: 'POST' }), 400, 'SignatureDoesNotMatch');
    });

    it('when x-acs-action is left out of the V3 SignedHeaders, it answers 400 IncompleteSignature', async () => {
      expectError(await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { unsigned: ['x-acs-action'] })), 400, 'IncompleteSignature');
    });
  });

  describe('Format', () => {
    it.each(['XML', 'xml', 'Xml'])('when Format=%s, a success is <KMS> XML with content-type text/xml', async (format) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { format }));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/xml/);
      expect(r.raw.startsWith(`${XML_DECLARATION}<KMS>`)).toBe(true);
      expect(r.raw.endsWith('</KMS>')).toBe(true);
      const kms = parseXml(r.raw).KMS as Record<string, string>;
      expect(Object.keys(kms).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyVersionId', 'Plaintext', 'RequestId']);
      expect(kms.KeyId).toBe(KEY_ID);
      expect(r.headers['x-acs-request-id']).toBe(kms.RequestId);
      // The XML blob is the same Base64 a JSON client would get: it decrypts.
      const d = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: kms.CiphertextBlob! }));
      expect(d.body.Plaintext).toBe(kms.Plaintext);
    });

    it('when Format=XML comes in a V3 query, the answer is XML', async () => {
      const r = await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, Format: 'XML' }));
      expect(r.status).toBe(200);
      expect(r.raw.startsWith(`${XML_DECLARATION}<KMS>`)).toBe(true);
    });

    it.each(['XML', 'xml'])('when Format=%s and the request fails, the error is <Error> XML with RequestId, HostId, Code and Message', async (format) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: 'alias/nope' }, { format }));
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/^text\/xml/);
      expect(r.raw.startsWith(`${XML_DECLARATION}<Error>`)).toBe(true);
      expect(r.raw.endsWith('</Error>')).toBe(true);
      const error = parseXml(r.raw).Error as Record<string, string>;
      expect(error.Code).toBe('Forbidden.AliasNotFound');
      expect(error.RequestId).toBe(r.headers['x-acs-request-id']);
      expect(error.HostId).toBe('127.0.0.1:8080');
      expect(error.Message).toContain('alias/nope');
      expectNoStackTrace(r.raw);
    });

    it('when Format=XML and the signature is wrong, the error is XML too', async () => {
      const r = await t.call(
        signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: KEY_ID }, { format: 'XML' }),
      );
      expect(r.status).toBe(400);
      expect(parseXml(r.raw).Error.Code).toBe('SignatureDoesNotMatch');
    });

    it.each(['yaml', 'JSONP', 'html', ' JSON'])('when Format=%j, it answers 400 InvalidParameter naming Format, in JSON', async (format) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { format }));
      expectError(r, 400, 'InvalidParameter', names('Format'));
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    });

    it.each(['JSON', 'json', 'Json'])('when Format=%s, the answer is JSON', async (format) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { format }));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.body.KeyId).toBe(KEY_ID);
    });
  });

  describe('RequestId and error bodies', () => {
    it('when many calls succeed and fail, every response has its own RequestId, echoed in x-acs-request-id', async () => {
      const results: CallResult[] = [];
      for (let i = 0; i < 5; i++) {
        results.push(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID })));
        results.push(await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, DryRun: 'true' })));
        results.push(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: 'alias/nope' })));
        results.push(await t.call(signedRpcRequest(ADMIN, 'NoSuchAction', {})));
        results.push(await t.call(signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'Decrypt', { CiphertextBlob: 'x' })));
        results.push(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { format: 'yaml' })));
        results.push(await t.call({ method: 'GET', path: '/', rawQuery: '', headers: {}, body: Buffer.alloc(0) }));
      }
      const ids = results.map((r) => {
        const id = r.body.RequestId as string;
        expect(typeof id).toBe('string');
        expect(id).toMatch(/^[0-9A-F-]{36}$/i);
        expect(r.headers['x-acs-request-id']).toBe(id);
        return id;
      });
      expect(new Set(ids).size).toBe(ids.length);
      for (const r of results) if (r.status >= 400) expect(Object.keys(r.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    });

    it('when the same request is replayed, the replay gets a new RequestId too', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const a = await t.call(request);
      const b = await t.call(request);
      expect(a.body.RequestId).not.toBe(b.body.RequestId);
    });

    it('when the Host header is not a host name, HostId does not echo it', async () => {
      const request = withHeaders(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: 'alias/nope' }), (h) => {
        h.host = '<script>alert(1)</script>';
      });
      const r = await t.call(request);
      expectError(r, 404, 'Forbidden.AliasNotFound');
      expect(r.raw).not.toContain('<script>');
    });
  });

  describe('Action and Version', () => {
    it.each(['NoSuchAction', 'GenerateDataKeyPair', 'GenerateMac', 'asymmetricsign', 'generatedatakey', 'constructor', '__proto__', 'toString'])(
      'when Action is %j (unknown here), it answers 404 InvalidAction.NotFound',
      async (action) => {
        expectError(await t.call(signedRpcRequest(ADMIN, action, {})), 404, 'InvalidAction.NotFound');
        expectError(await t.call(signedV3Request(ADMIN, action, {})), 404, 'InvalidAction.NotFound');
      },
    );

    it('when an unknown Action is only in a form body (no x-acs-action header), it answers 404 InvalidAction.NotFound', async () => {
      const request = withHeaders(signedRpcRequest(ADMIN, 'NoSuchAction', {}, { method: 'POST', form: true }), (h) => {
        delete h['x-acs-action'];
      });
      expectError(await t.call(request), 404, 'InvalidAction.NotFound');
    });

    it('when a known Action is only in a form body (no x-acs-action header), it is served', async () => {
      const request = withHeaders(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { method: 'POST', form: true }), (h) => {
        delete h['x-acs-action'];
      });
      const r = await t.call(request);
      expect(r.status).toBe(200);
      expect(r.body.KeyId).toBe(KEY_ID);
    });

    it('when an RPC request has no Action at all, it answers 400 MissingParameter naming Action', async () => {
      const r = await t.call(rawRpcRequest(ADMIN, { ...commonRpcParams(ADMIN), KeyId: KEY_ID }));
      expectError(r, 400, 'MissingParameter', names('Action'));
    });

    it('when a V3 request has no x-acs-action header, it answers 400 MissingParameter naming Action', async () => {
      const request = withHeaders(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { unsigned: ['x-acs-action'] }), (h) => {
        delete h['x-acs-action'];
      });
      expectError(await t.call(request), 400, 'MissingParameter', names('Action'));
    });

    it.each(['2015-01-20', '2016-1-20', '', 'latest'])('when Version is %j in the query, it answers 400 InvalidParameter naming Version', async (version) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, Version: version }));
      expectError(r, 400, 'InvalidParameter', names('Version'));
    });

    it('when x-acs-version is another version on a V3 request, it answers 400 InvalidParameter naming Version', async () => {
      const request = signedV3Request(
        ADMIN,
        'GenerateDataKey',
        { KeyId: KEY_ID },
        {
          afterSigning: (r) => {
            r.headers['x-acs-version'] = '2019-01-01';
          },
        },
      );
      expectError(await t.call(request), 400, 'InvalidParameter', names('Version'));
    });

    it('when the Action parameter differs from the x-acs-action header (RPC), it answers 400', async () => {
      const request = withHeaders(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }), (h) => {
        h['x-acs-action'] = 'Decrypt';
      });
      expectError(await t.call(request), 400, 'InvalidParameter', names('Action'));
    });

    it('when the Action parameter differs from the x-acs-action header (V3), it answers 400', async () => {
      expectError(await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, Action: 'Decrypt' })), 400, 'InvalidParameter', names('Action'));
    });

    it('when a request signed for Decrypt reaches the GenerateDataKey stack directly, it answers 404 InvalidAction.NotFound', async () => {
      const g = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }));
      const stack = buildRpcHandler(generateDataKey, t.service);
      for (const request of [
        signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }),
        signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }),
        signedRpcRequest(ADMIN, 'Decrypt', { KeyId: KEY_ID, CiphertextBlob: g.body.CiphertextBlob }),
      ]) {
        const response = await stack(request);
        const body = JSON.parse(response.body) as Record<string, any>;
        expectError({ status: response.statusCode, body, raw: response.body, headers: response.headers }, 404, 'InvalidAction.NotFound');
        expect(body.Plaintext).toBeUndefined();
        expect(body.CiphertextBlob).toBeUndefined();
      }
    });
  });

  describe('parameters', () => {
    it('when a parameter is given twice in the query, it answers 400 InvalidParameter naming it', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const r = await t.call({ ...request, rawQuery: `${request.rawQuery}&KeyId=${percentEncode('alias/other')}` });
      expectError(r, 400, 'InvalidParameter', names('KeyId'));
    });

    it('when a parameter is given twice with the same value, it still answers 400', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const r = await t.call({ ...request, rawQuery: `${request.rawQuery}&KeyId=${KEY_ID}` });
      expectError(r, 400, 'InvalidParameter', names('KeyId'));
    });

    it('when a parameter is in both the query and a form body, it answers 400', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { method: 'POST', form: true });
      const r = await t.call({ ...request, rawQuery: `KeyId=${percentEncode('alias/other')}` });
      expectError(r, 400, 'InvalidParameter', names('KeyId'));
    });

    it('when Signature is given twice, it answers 400', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const r = await t.call({ ...request, rawQuery: `${request.rawQuery}&Signature=AAAA` });
      expect(r.status).toBe(400);
      expectError(r, 400, 'InvalidParameter');
    });

    it('when a V3 query repeats a parameter, it answers 400', async () => {
      const request = signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const r = await t.call({ ...request, rawQuery: `${request.rawQuery}&KeyId=${KEY_ID}` });
      expectError(r, 400, 'InvalidParameter', names('KeyId'));
    });

    it('when the query has malformed percent-encoding, it answers 400', async () => {
      const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      const r = await t.call({ ...request, rawQuery: `${request.rawQuery}&Bad=%E0%A4%A` });
      expect(r.status).toBe(400);
      expectNoStackTrace(r.raw);
    });
  });

  describe('authentication', () => {
    it('when the secret is wrong (RPC), it answers 400 SignatureDoesNotMatch without echoing a string-to-sign', async () => {
      const r = await t.call(signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: KEY_ID }));
      expectError(r, 400, 'SignatureDoesNotMatch');
      expect(r.raw).not.toContain('GET&');
      expect(r.raw).not.toContain(ADMIN.accessKeySecret);
    });

    it('when the secret is wrong (V3), it answers 400 SignatureDoesNotMatch', async () => {
      const r = await t.call(signedV3Request({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: KEY_ID }));
      expectError(r, 400, 'SignatureDoesNotMatch');
      expect(r.raw).not.toContain('ACS3-HMAC-SHA256\n');
    });

    it.each(['testUnknown0001', 'LTAI00000000000000000000', 'x', '../../etc/passwd', 'testadmin0001'])(
      'when the AccessKeyId %j is unknown, it answers 404 InvalidAccessKeyId.NotFound',
      async (accessKeyId) => {
        const who = { accessKeyId, accessKeySecret: 'whatever-secret-0000' };
        expectError(await t.call(signedRpcRequest(who, 'GenerateDataKey', { KeyId: KEY_ID })), 404, 'InvalidAccessKeyId.NotFound');
        expectError(await t.call(signedV3Request(who, 'GenerateDataKey', { KeyId: KEY_ID })), 404, 'InvalidAccessKeyId.NotFound');
      },
    );

    it('when a nonce is replayed (RPC), the second request answers 400 SignatureNonceUsed', async () => {
      const nonce = randomUUID();
      expect((await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce }))).status).toBe(200);
      expectError(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce })), 400, 'SignatureNonceUsed');
      // Even for another Action, the nonce stays used.
      expectError(await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x' }, { nonce })), 400, 'SignatureNonceUsed');
    });

    it('when the exact same request is sent twice, the second answers 400 SignatureNonceUsed', async () => {
      const request = signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID });
      expect((await t.call(request)).status).toBe(200);
      const replay = await t.call(request);
      expectError(replay, 400, 'SignatureNonceUsed');
      expect(replay.body.Plaintext).toBeUndefined();
    });

    it('when a request with a bad signature used a nonce, the nonce is not burnt', async () => {
      const nonce = randomUUID();
      const bad = signedRpcRequest({ ...ADMIN, accessKeySecret: 'wrong-secret-0000000000' }, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce });
      expectError(await t.call(bad), 400, 'SignatureDoesNotMatch');
      expect((await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { nonce }))).status).toBe(200);
    });

    it.each([
      ['20 minutes old', -20 * 60_000],
      ['20 minutes in the future', 20 * 60_000],
      ['a day old', -24 * 3_600_000],
    ])('when the timestamp is %s, it answers 400 InvalidTimeStamp.Expired', async (_label, offset) => {
      const timestamp = isoSeconds(Date.now() + offset);
      expectError(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { timestamp })), 400, 'InvalidTimeStamp.Expired');
      expectError(await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { date: timestamp })), 400, 'InvalidTimeStamp.Expired');
    });

    it('when the timestamp is 14 minutes old, it is accepted', async () => {
      const timestamp = isoSeconds(Date.now() - 14 * 60_000);
      expect((await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { timestamp }))).status).toBe(200);
    });

    it.each(['garbage', '2024-01-01 00:00:00', '2024-01-01T00:00:00', '2024-01-01T00:00:00+08:00', '1700000000', '2024-13-45T25:61:61Z'])(
      'when the timestamp is %j, it answers 400 IllegalTimestamp',
      async (timestamp) => {
        expectError(await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { timestamp })), 400, 'IllegalTimestamp');
        expectError(await t.call(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { date: timestamp })), 400, 'IllegalTimestamp');
      },
    );

    it('when the Signature parameter is removed, it answers 400 IncompleteSignature', async () => {
      const request = signedRpcRequest(
        ADMIN,
        'GenerateDataKey',
        { KeyId: KEY_ID },
        {
          afterSigning: (p) => {
            delete p.Signature;
          },
        },
      );
      expectError(await t.call(request), 400, 'IncompleteSignature');
    });

    it.each(['AccessKeyId', 'SignatureNonce', 'Timestamp'])(
      'when %s is removed from a signed RPC request, it answers 400 IncompleteSignature',
      async (name) => {
        const request = signedRpcRequest(
          ADMIN,
          'GenerateDataKey',
          { KeyId: KEY_ID },
          {
            afterSigning: (p) => {
              delete p[name];
            },
          },
        );
        expectError(await t.call(request), 400, 'IncompleteSignature');
      },
    );

    it('when a request carries no authentication at all, it answers 400 IncompleteSignature (there is no unsigned mode)', async () => {
      const unsigned: RpcRequest = {
        method: 'GET',
        path: '/',
        rawQuery: `Action=GenerateDataKey&Format=JSON&Version=2016-01-20&KeyId=${KEY_ID}`,
        headers: { host: '127.0.0.1:8080' },
        body: Buffer.alloc(0),
      };
      const r = await t.call(unsigned);
      expectError(r, 400, 'IncompleteSignature');
      expect(r.body.Plaintext).toBeUndefined();
    });

    it('when a request is entirely empty, it answers 400 IncompleteSignature with HostId "kms"', async () => {
      const r = await t.call({ method: 'GET', path: '/', rawQuery: '', headers: {}, body: Buffer.alloc(0) });
      expectError(r, 400, 'IncompleteSignature');
      expect(r.body.HostId).toBe('kms');
    });

    it.each([
      ['another algorithm', 'AWS4-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00'],
      ['no Signature', 'ACS3-HMAC-SHA256 Credential=testAdmin0001,SignedHeaders=host;x-acs-action'],
      ['no Credential', `ACS3-HMAC-SHA256 SignedHeaders=host;x-acs-action,Signature=${'0'.repeat(64)}`],
      ['a short Signature', 'ACS3-HMAC-SHA256 Credential=testAdmin0001,SignedHeaders=host;x-acs-action,Signature=abc'],
      ['nothing after the algorithm', 'ACS3-HMAC-SHA256 '],
      ['empty', ''],
    ])('when the V3 Authorization header has %s, it answers 400 IncompleteSignature', async (_label, header) => {
      const request = withHeaders(signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }), (h) => {
        h.authorization = header;
      });
      expectError(await t.call(request), 400, 'IncompleteSignature');
    });

    it.each(['HMAC-SHA256', 'hmac-sha1'])('when SignatureMethod is %s, it answers 400 IncompleteSignature', async (method) => {
      const r = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID, SignatureMethod: method }));
      expectError(r, 400, 'IncompleteSignature');
    });
  });

  describe('internal failures', () => {
    const FAKE_SECRET = 'FAKE-SECRET-do-not-leak-7f3a9c';

    it('when the key store throws while authenticating, it answers 500 InternalFailure without the error’s message or stack', async () => {
      const store = new FailingKeyStore(new MemoryKeyStore(), () => true, `store exploded: ${FAKE_SECRET}`);
      const logLines: string[] = [];
      const f = await createTestService({ store, logLines });
      store.armed = true;
      for (const request of [
        signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }),
        signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: 'AAAA' }),
        signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }, { format: 'XML' }),
      ]) {
        const r = await f.call(request);
        expect(r.status).toBe(500);
        expect(r.raw).not.toContain(FAKE_SECRET);
        expect(r.raw).not.toContain('store exploded');
        expectNoStackTrace(r.raw);
        expect(r.raw).toMatch(/InternalFailure/);
      }
      // The details go to the log, for the operator.
      expect(logLines.some((line) => line.includes(FAKE_SECRET))).toBe(true);
    });

    it('when the key store throws inside an operation, it answers 500 InternalFailure in the standard error body', async () => {
      const store = new FailingKeyStore(new MemoryKeyStore(), (name) => name.startsWith('version-index/'), `lookup failed near ${FAKE_SECRET}`);
      const f = await createTestService({ store });
      const g = await f.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }));
      expect(g.status).toBe(200);
      store.armed = true;
      // A version that is not cached: its owner must be read from the (failing) store.
      const r = await f.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: withVersionId(g.body.CiphertextBlob, randomUUID()) }));
      expectError(r, 500, 'InternalFailure');
      expect(r.raw).not.toContain(FAKE_SECRET);
      expect(r.raw).not.toContain('lookup failed');
      // A cached version is unaffected.
      const d = await f.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }));
      expect(d.status).toBe(200);
    });
  });
});

function createHashHex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
