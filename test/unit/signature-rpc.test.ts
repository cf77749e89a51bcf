import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate, TIMESTAMP_WINDOW_MS } from '../../lib/auth/authenticate.js';
import { alibabaClaim } from '../../lib/protocol/alibaba/codec.js';
import { rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
import {
  AccessKeyInactiveError,
  AccessKeyNotFoundError,
  IllegalTimestampError,
  IncompleteSignatureError,
  SignatureDoesNotMatchError,
  SignatureNonceUsedError,
  TimestampExpiredError,
} from '../../lib/errors.js';
import { operationInput, rpcParams } from '../../lib/rpc/params.js';
import { formDecode, percentEncode } from '@alibaba-kms-compatible/client/signing';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { authDeps, CAPTURE, capturedAt, captureNamed, capturesSigned, toRpcRequest } from '../helpers/client-captures.js';

/**
 * Known-answer tests: the oracle is what the official clients (pop-core GET/POST, kms20160120,
 * openapi-client with signatureAlgorithm 'v2') really sent, captured by
 * test/fixtures/capture-clients.ts.
 */
const RPC_CAPTURES = capturesSigned('rpc');
const MINUTE = 60_000;

/** Where a request carries its parameters: the form body when there is one, else the query. */
function carriesForm(request: RpcRequest): boolean {
  return request.body.length > 0;
}

/**
 * A copy of `request` with one parameter set to `value` (re-encoded) or removed (`undefined`),
 * every other pair left byte-for-byte as the client sent it.
 */
function withParam(request: RpcRequest, name: string, value: string | undefined): RpcRequest {
  const text = carriesForm(request) ? request.body.toString('utf8') : request.rawQuery;
  const pairs = text.split('&').filter((pair) => formDecode(pair.split('=')[0]!) !== name);
  if (pairs.length === text.split('&').length) throw new Error(`the request has no parameter ${name}`);
  if (value !== undefined) pairs.push(`${percentEncode(name)}=${percentEncode(value)}`);
  const joined = pairs.join('&');
  return carriesForm(request) ? { ...request, body: Buffer.from(joined) } : { ...request, rawQuery: joined };
}

const paramOf = (request: RpcRequest, name: string) => rpcParams(request).all.get(name);

describe('Module: rpc-signature', () => {
  it('has captures from every RPC client path', () => {
    expect(RPC_CAPTURES.map((c) => c.name).sort()).toEqual([
      'kms20160120-encrypt',
      'kms20160120-generate-data-key-flattened-keys',
      'openapi-v2-encrypt-query',
      'pop-core-get-encrypt',
      'pop-core-post-encrypt',
    ]);
  });

  describe('function rpcSignature', () => {
    it.each(RPC_CAPTURES.map((c) => [c.name, c] as const))('when given what %s sent, it reproduces the Signature the client sent', (_name, captured) => {
      const request = toRpcRequest(captured);
      const params = rpcParams(request);
      const sent = params.all.get('Signature');
      expect(sent).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      const stringToSign = rpcStringToSign(request.method, params.all);
      expect(stringToSign.startsWith(`${captured.method}&%2F&`)).toBe(true);
      expect(rpcSignature(CAPTURE.credentials.accessKeySecret, stringToSign)).toBe(sent);
    });

    it('when the secret differs by one character, it produces a different signature', () => {
      const request = toRpcRequest(captureNamed('pop-core-get-encrypt'));
      const stringToSign = rpcStringToSign('GET', rpcParams(request).all);
      expect(rpcSignature(`${CAPTURE.credentials.accessKeySecret}x`, stringToSign)).not.toBe(paramOf(request, 'Signature'));
    });

    it('when the key is built, it appends "&" to the secret (HMAC-SHA1 key = secret + "&")', () => {
      const expected = createHmac('sha1', 'secret&').update('GET&%2F&A%3Db').digest('base64');
      expect(rpcSignature('secret', 'GET&%2F&A%3Db')).toBe(expected);
    });
  });

  describe('function rpcStringToSign', () => {
    it('when given a small parameter set, it builds METHOD&%2F&encode(sorted, encoded query) without Signature', () => {
      const stringToSign = rpcStringToSign('get', [
        ['Version', '2016-01-20'],
        ['Signature', 'ignored'],
        ['Action', 'Encrypt'],
        ['Plaintext', "a b*~!'()é"],
      ]);
      expect(stringToSign).toBe(`GET&%2F&${percentEncode('Action=Encrypt&Plaintext=a%20b%2A~%21%27%28%29%C3%A9&Version=2016-01-20')}`);
    });

    it('when flattened map keys sort differently raw and encoded, it sorts by the decoded name as the clients do', () => {
      const params = rpcParams(toRpcRequest(captureNamed('kms20160120-generate-data-key-flattened-keys'))).all;
      const decoded = decodeURIComponent(rpcStringToSign('POST', params).split('&')[2]!);
      const names = decoded
        .split('&')
        .map((pair) => pair.split('=')[0]!)
        .filter((n) => n.startsWith('EncryptionContext.'));
      // Raw order: "." (0x2E) < "/" (0x2F) < "z" < "中"; encoded order would put "%2F" and "%E4" first.
      expect(names).toEqual(['EncryptionContext.a.b', 'EncryptionContext.a%2Fb', 'EncryptionContext.z', 'EncryptionContext.%E4%B8%AD']);
    });
  });

  describe('function rpcStringToSign, over any parameters', () => {
    /** The definition, spelled out: sorted by decoded name, each part encoded, the query encoded whole. */
    const definition = (method: string, params: ReadonlyArray<readonly [string, string]>) => {
      const pairs = params.filter(([name]) => name !== 'Signature').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const query = pairs.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');
      return `${method.toUpperCase()}&%2F&${percentEncode(query)}`;
    };
    // Names clients send, and any others, with any text.
    const name = fc.oneof(
      fc.constantFrom('Action', 'AccessKeyId', 'KeyId', 'Format', 'Version', 'NumberOfBytes', 'Plaintext', 'Signature'),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
    );
    const value = fc.oneof(
      fc.constantFrom('GenerateDataKey', 'alias/a b', '中', '%41', "!'()*~"),
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
    );
    const params = fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 12 });

    it('when called with any parameters, many times, it equals the definition every time', () => {
      fc.assert(
        fc.property(fc.constantFrom('GET', 'post'), params, fc.integer({ min: 1, max: 3 }), (method, list, times) => {
          for (let i = 0; i < times; i++) expect(rpcStringToSign(method, list)).toBe(definition(method, list));
        }),
        { numRuns: 3_000 },
      );
    });

    it('when the same name carries different values from one call to the next, each call encodes its own', () => {
      for (const keyId of ['alias/a', 'alias/b', 'alias/a', 'key-1', 'alias/a']) {
        expect(rpcStringToSign('GET', [['KeyId', keyId]])).toBe(definition('GET', [['KeyId', keyId]]));
      }
    });
  });

  describe('decoding what the clients sent', () => {
    it.each(RPC_CAPTURES.filter((c) => c.action === 'Encrypt').map((c) => [c.name, c] as const))(
      'when %s sent awkward characters, the decoded Plaintext is exactly what the client was given',
      (_name, captured) => {
        expect(paramOf(toRpcRequest(captured), 'Plaintext')).toBe(CAPTURE.inputs.plaintext);
      },
    );

    it.each(['openapi-v2-encrypt-query', 'pop-core-get-encrypt', 'pop-core-post-encrypt'])(
      'when %s sent the EncryptionContext as JSON text, it decodes to the JSON of the context given',
      (name) => {
        expect(JSON.parse(paramOf(toRpcRequest(captureNamed(name)), 'EncryptionContext')!)).toEqual(CAPTURE.inputs.encryptionContext);
      },
    );

    it.each([
      ['kms20160120-encrypt', CAPTURE.inputs.encryptionContext],
      ['kms20160120-generate-data-key-flattened-keys', CAPTURE.inputs.flattenedContext],
    ] as const)('when %s flattened the EncryptionContext, operationInput gathers it back into the same map', (name, context) => {
      const input = operationInput(rpcParams(toRpcRequest(captureNamed(name))).all);
      expect(Object.fromEntries(input.EncryptionContext as Map<string, string>)).toEqual(context);
    });
  });
});

describe('Module: authenticate (RPC HMAC-SHA1)', () => {
  describe('function authenticate', () => {
    it.each(RPC_CAPTURES.map((c) => [c.name, c] as const))(
      'when %s sent a request, it accepts it and returns the caller and the Action',
      async (_name, captured) => {
        const request = toRpcRequest(captured);
        const result = await authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) }));
        expect(result.principal.accessKeyId).toBe(CAPTURE.credentials.accessKeyId);
        expect(result.action).toBe(captured.action);
      },
    );

    it.each(RPC_CAPTURES.map((c) => [c.name, c] as const))(
      'when one parameter value of %s is changed, it throws SignatureDoesNotMatchError',
      async (_name, captured) => {
        const request = withParam(toRpcRequest(captured), 'KeyId', 'alias/other');
        await expect(
          authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
        ).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
      },
    );

    it('when a parameter the client did not sign is added, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const original = toRpcRequest(captured);
      const request = { ...original, rawQuery: `${original.rawQuery}&NumberOfBytes=1` };
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when the method is changed (GET signed, POST sent), it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const request = { ...toRpcRequest(captured), method: 'POST' };
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when the stored secret differs from the one that signed, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('kms20160120-encrypt');
      const request = toRpcRequest(captured);
      const deps = await authDeps({ now: capturedAt(captured), secret: 'another-secret-0123456789' });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it.each(['Signature', 'AccessKeyId', 'SignatureNonce', 'Timestamp'])('when %s is missing, it throws IncompleteSignatureError', async (name) => {
      const captured = captureNamed('pop-core-get-encrypt');
      const request = withParam(toRpcRequest(captured), name, undefined);
      const error = await authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IncompleteSignatureError);
      expect((error as Error).message).toContain(name);
    });

    it.each(['Signature', 'SignatureNonce'])('when %s is empty, it throws IncompleteSignatureError', async (name) => {
      const captured = captureNamed('pop-core-post-encrypt');
      const request = withParam(toRpcRequest(captured), name, '');
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).rejects.toBeInstanceOf(IncompleteSignatureError);
    });

    it('when SignatureMethod is not HMAC-SHA1, it throws IncompleteSignatureError', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const request = withParam(toRpcRequest(captured), 'SignatureMethod', 'HMAC-SHA256');
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).rejects.toBeInstanceOf(IncompleteSignatureError);
    });

    it.each(['2026-11-22 18:20:33', 'yesterday', '1700000000', '2026-11-22T18:20:33+08:00', '2026-13-45T25:61:61Z'])(
      'when the Timestamp is "%s", it throws IllegalTimestampError',
      async (timestamp) => {
        const captured = captureNamed('pop-core-get-encrypt');
        const request = withParam(toRpcRequest(captured), 'Timestamp', timestamp);
        await expect(
          authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
        ).rejects.toBeInstanceOf(IllegalTimestampError);
      },
    );

    it.each([16, -16])('when the server clock is %i minutes from the Timestamp, it throws TimestampExpiredError', async (minutes) => {
      const captured = captureNamed('openapi-v2-encrypt-query');
      const request = toRpcRequest(captured);
      const deps = await authDeps({ now: capturedAt(captured) + minutes * MINUTE });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).rejects.toBeInstanceOf(TimestampExpiredError);
    });

    it.each([14, -14])('when the server clock is %i minutes from the Timestamp, it accepts the request', async (minutes) => {
      const captured = captureNamed('openapi-v2-encrypt-query');
      const request = toRpcRequest(captured);
      const deps = await authDeps({ now: capturedAt(captured) + minutes * MINUTE });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it('when the clock is exactly at the edge of the 15-minute window, it accepts, and 1 ms beyond it refuses', async () => {
      const captured = captureNamed('kms20160120-encrypt');
      const request = toRpcRequest(captured);
      const at = capturedAt(captured);
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: at + TIMESTAMP_WINDOW_MS })),
      ).resolves.toBeDefined();
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: at + TIMESTAMP_WINDOW_MS + 1 })),
      ).rejects.toBeInstanceOf(TimestampExpiredError);
    });

    it('when the same request (same nonce) arrives twice, it accepts the first and throws SignatureNonceUsedError for the second', async () => {
      const captured = captureNamed('pop-core-post-encrypt');
      const deps = await authDeps({ now: capturedAt(captured) });
      const first = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(first, rpcParams(first), claimed), deps)).resolves.toBeDefined();
      const replay = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(replay, rpcParams(replay), claimed), deps)).rejects.toBeInstanceOf(SignatureNonceUsedError);
    });

    it('when a request with a nonce fails its signature check, the nonce is not consumed and the genuine request is accepted', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const deps = await authDeps({ now: capturedAt(captured) });
      const forged = withParam(toRpcRequest(captured), 'KeyId', 'alias/other');
      await expect(authenticate((claimed) => alibabaClaim(forged, rpcParams(forged), claimed), deps)).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
      const genuine = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(genuine, rpcParams(genuine), claimed), deps)).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it('when the AccessKeyId is unknown, it throws AccessKeyNotFoundError', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const request = toRpcRequest(captured);
      const deps = await authDeps({ now: capturedAt(captured), accessKey: 'absent' });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).rejects.toBeInstanceOf(AccessKeyNotFoundError);
    });

    it('when the access key is disabled and the signature is valid, it throws AccessKeyInactiveError', async () => {
      const captured = captureNamed('kms20160120-encrypt');
      const request = toRpcRequest(captured);
      const deps = await authDeps({ now: capturedAt(captured), status: 'Disabled' });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).rejects.toBeInstanceOf(AccessKeyInactiveError);
    });

    it('when the access key is disabled and the signature is wrong, it throws SignatureDoesNotMatchError (status is not revealed)', async () => {
      const captured = captureNamed('kms20160120-encrypt');
      const request = withParam(toRpcRequest(captured), 'KeyId', 'alias/other');
      const deps = await authDeps({ now: capturedAt(captured), status: 'Disabled' });
      await expect(authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), deps)).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });
  });
});

describe('Module: percent-encode', () => {
  describe('function percentEncode', () => {
    it.each([
      [' ', '%20'],
      ['*', '%2A'],
      ['~', '~'],
      ['!', '%21'],
      ["'", '%27'],
      ['(', '%28'],
      [')', '%29'],
      ['+', '%2B'],
      ['/', '%2F'],
      ['=', '%3D'],
      ['&', '%26'],
      ['%', '%25'],
      ['é', '%C3%A9'],
      ['中', '%E4%B8%AD'],
      ['😀', '%F0%9F%98%80'],
      ['AZaz09-_.~', 'AZaz09-_.~'],
    ])('when given "%s", it returns "%s"', (input, expected) => {
      expect(percentEncode(input)).toBe(expected);
    });

    it('when encoding a byte, it uses upper-case hex digits', () => {
      expect(percentEncode('\u00ff:')).toBe('%C3%BF%3A');
    });
  });

  describe('function formDecode', () => {
    it.each([
      ['a+b', 'a b'],
      ['a%20b', 'a b'],
      ['%2B', '+'],
      ["*!'()~", "*!'()~"],
      ['caf%C3%A9', 'café'],
      ['plain', 'plain'],
    ])('when given "%s", it returns "%s"', (input, expected) => {
      expect(formDecode(input)).toBe(expected);
    });

    it.each(['%', '%2', '%ZZ', '%C3'])('when given malformed percent-encoding "%s", it returns undefined', (input) => {
      expect(formDecode(input)).toBeUndefined();
    });
  });
});
