import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../lib/auth/authenticate.js';
import { alibabaClaim } from '../../lib/protocol/alibaba/codec.js';
import { sha256Hex, v3CanonicalRequest, v3Signature } from '@alibaba-kms-compatible/client/signing';
import { parseV3Authorization } from '../../lib/auth/v3-signature.js';
import {
  AccessKeyInactiveError,
  AccessKeyNotFoundError,
  IllegalTimestampError,
  IncompleteSignatureError,
  SignatureDoesNotMatchError,
  SignatureNonceUsedError,
  TimestampExpiredError,
} from '../../lib/errors.js';
import { rpcParams } from '../../lib/rpc/params.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { authDeps, CAPTURE, capturedAt, captureNamed, capturesSigned, toRpcRequest } from '../helpers/client-captures.js';

/**
 * Known-answer tests for ACS3-HMAC-SHA256: the oracle is what @alicloud/openapi-client (its
 * default signer) really sent, captured by test/fixtures/capture-clients.ts.
 */
const V3_CAPTURES = capturesSigned('v3');
const MINUTE = 60_000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type MutableRequest = RpcRequest & { headers: Record<string, string> };

/** Signs `request` again with the capture's secret over `signedHeaders`, using the service's own V3 code. */
function resign(request: MutableRequest, signedHeaders: string[]): MutableRequest {
  const canonical = v3CanonicalRequest({
    method: request.method,
    path: request.path,
    query: rpcParams({ ...request }).query,
    headers: request.headers,
    signedHeaders,
    hashedPayload: request.headers['x-acs-content-sha256']!,
  });
  const signature = v3Signature(CAPTURE.credentials.accessKeySecret, canonical);
  const authorization = `ACS3-HMAC-SHA256 Credential=${CAPTURE.credentials.accessKeyId},SignedHeaders=${[...signedHeaders].sort().join(';')},Signature=${signature}`;
  return { ...request, headers: { ...request.headers, authorization } };
}

const signedHeadersOf = (request: MutableRequest) => parseV3Authorization(request.headers.authorization!).signedHeaders;

async function authenticateAt(request: RpcRequest, now: number, options: Parameters<typeof authDeps>[0] | undefined = undefined) {
  return authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps(options ?? { now }));
}

describe('Module: v3-signature', () => {
  it('has captures of the V3 signer with a query and with a form body', () => {
    expect(V3_CAPTURES.map((c) => c.name).sort()).toEqual(['openapi-v3-encrypt-form-body', 'openapi-v3-encrypt-query', 'openapi-v3-generate-data-key-query']);
  });

  describe('function parseV3Authorization', () => {
    it.each(V3_CAPTURES.map((c) => [c.name, c] as const))(
      'when given the header %s sent, it returns the access key id, signed headers and signature',
      (_n, captured) => {
        const auth = parseV3Authorization(toRpcRequest(captured).headers.authorization!);
        expect(auth.accessKeyId).toBe(CAPTURE.credentials.accessKeyId);
        expect(auth.signedHeaders).toEqual(
          expect.arrayContaining(['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']),
        );
        expect(auth.signature).toMatch(/^[0-9a-f]{64}$/);
      },
    );

    it.each([
      ['another algorithm', `ACS3-HMAC-SM3 Credential=LTAIabcdefgh,SignedHeaders=host,Signature=${'a'.repeat(64)}`],
      ['no Credential', `ACS3-HMAC-SHA256 SignedHeaders=host,Signature=${'a'.repeat(64)}`],
      ['no SignedHeaders', `ACS3-HMAC-SHA256 Credential=LTAIabcdefgh,Signature=${'a'.repeat(64)}`],
      ['no Signature', 'ACS3-HMAC-SHA256 Credential=LTAIabcdefgh,SignedHeaders=host'],
      ['an upper-case hex Signature', `ACS3-HMAC-SHA256 Credential=LTAIabcdefgh,SignedHeaders=host,Signature=${'A'.repeat(64)}`],
      ['a short Signature', `ACS3-HMAC-SHA256 Credential=LTAIabcdefgh,SignedHeaders=host,Signature=${'a'.repeat(63)}`],
    ])('when the header has %s, it throws IncompleteSignatureError', (_what, header) => {
      expect(() => parseV3Authorization(header)).toThrow(IncompleteSignatureError);
    });
  });

  describe('function v3Signature', () => {
    it.each(V3_CAPTURES.map((c) => [c.name, c] as const))('when given what %s sent, it reproduces the signature the client sent', (_n, captured) => {
      const request = toRpcRequest(captured);
      const auth = parseV3Authorization(request.headers.authorization!);
      const canonical = v3CanonicalRequest({
        method: request.method,
        path: request.path,
        query: rpcParams(request).query,
        headers: request.headers,
        signedHeaders: auth.signedHeaders,
        hashedPayload: request.headers['x-acs-content-sha256']!,
      });
      expect(v3Signature(CAPTURE.credentials.accessKeySecret, canonical)).toBe(auth.signature);
    });

    it('when the client sent a body, the x-acs-content-sha256 it signed is the hex SHA-256 of that body', () => {
      const request = toRpcRequest(captureNamed('openapi-v3-encrypt-form-body'));
      expect(request.headers['x-acs-content-sha256']).toBe(createHash('sha256').update(request.body).digest('hex'));
      expect(sha256Hex(request.body)).toBe(request.headers['x-acs-content-sha256']);
      expect(sha256Hex(Buffer.alloc(0))).toBe(EMPTY_SHA256);
      expect(toRpcRequest(captureNamed('openapi-v3-encrypt-query')).headers['x-acs-content-sha256']).toBe(EMPTY_SHA256);
    });

    it('when the secret is used, it is the HMAC-SHA256 key as is (no "&" appended)', () => {
      const request = toRpcRequest(captureNamed('openapi-v3-encrypt-query'));
      const auth = parseV3Authorization(request.headers.authorization!);
      const canonical = v3CanonicalRequest({
        method: request.method,
        path: request.path,
        query: rpcParams(request).query,
        headers: request.headers,
        signedHeaders: auth.signedHeaders,
        hashedPayload: request.headers['x-acs-content-sha256']!,
      });
      expect(v3Signature(`${CAPTURE.credentials.accessKeySecret}&`, canonical)).not.toBe(auth.signature);
    });
  });

  describe('function v3CanonicalRequest', () => {
    it('when given a small request, it lays out METHOD, URI, sorted encoded query, headers, signed header list and payload hash', () => {
      const canonical = v3CanonicalRequest({
        method: 'post',
        path: '/',
        query: [
          ['Plaintext', "a b*!'()~é"],
          ['Empty', ''],
          ['KeyId', 'alias/test'],
        ],
        headers: { 'x-acs-date': ' 2026-01-01T00:00:00Z ', host: 'h:1', 'x-acs-action': 'Encrypt' },
        signedHeaders: ['x-acs-date', 'host', 'x-acs-action'],
        hashedPayload: EMPTY_SHA256,
      });
      expect(canonical).toBe(
        [
          'POST',
          '/',
          'Empty=&KeyId=alias%2Ftest&Plaintext=a%20b%2A%21%27%28%29~%C3%A9',
          'host:h:1\nx-acs-action:Encrypt\nx-acs-date:2026-01-01T00:00:00Z\n',
          'host;x-acs-action;x-acs-date',
          EMPTY_SHA256,
        ].join('\n'),
      );
    });
  });

  describe('decoding what the V3 client sent', () => {
    it("when the URL leaves !'()* unencoded (querystring.stringify), the decoded values are exactly what the client was given", () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      expect(captured.url).toContain('*!%27()~');
      const params = rpcParams(toRpcRequest(captured)).all;
      expect(params.get('Plaintext')).toBe(CAPTURE.inputs.plaintext);
      expect(JSON.parse(params.get('EncryptionContext')!)).toEqual(CAPTURE.inputs.encryptionContext);
    });

    it('when parameters are in a form body, they are read from it and only the query is in the canonical query', () => {
      const params = rpcParams(toRpcRequest(captureNamed('openapi-v3-encrypt-form-body')));
      expect(params.query).toEqual([['KeyId', 'alias/test']]);
      expect(params.all.get('Plaintext')).toBe(CAPTURE.inputs.plaintext);
    });
  });
});

describe('Module: authenticate (V3 ACS3-HMAC-SHA256)', () => {
  describe('function authenticate', () => {
    it.each(V3_CAPTURES.map((c) => [c.name, c] as const))(
      'when %s sent a request, it accepts it and returns the caller and the x-acs-action',
      async (_n, captured) => {
        const result = await authenticateAt(toRpcRequest(captured), capturedAt(captured));
        expect(result.principal.accessKeyId).toBe(CAPTURE.credentials.accessKeyId);
        expect(result.action).toBe(captured.action);
      },
    );

    it("when re-signed over the same headers by the test helper, the signature equals the client's (the helper is sound)", () => {
      const request = toRpcRequest(captureNamed('openapi-v3-encrypt-form-body'));
      expect(resign(request, signedHeadersOf(request)).headers.authorization).toBe(request.headers.authorization);
    });

    it('when a query parameter value is changed, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = { ...original, rawQuery: original.rawQuery.replace('KeyId=alias%2Ftest', 'KeyId=alias%2Fother') };
      expect(request.rawQuery).not.toBe(original.rawQuery);
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when the body is changed, it throws SignatureDoesNotMatchError (the body no longer hashes to x-acs-content-sha256)', async () => {
      const captured = captureNamed('openapi-v3-encrypt-form-body');
      const original = toRpcRequest(captured);
      const request = { ...original, body: Buffer.from(original.body.toString('utf8').replace('hello', 'HELLO')) };
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when the body and its x-acs-content-sha256 are both changed, it throws SignatureDoesNotMatchError (the hash is signed)', async () => {
      const captured = captureNamed('openapi-v3-encrypt-form-body');
      const original = toRpcRequest(captured);
      const body = Buffer.from(original.body.toString('utf8').replace('hello', 'HELLO'));
      const request = { ...original, body, headers: { ...original.headers, 'x-acs-content-sha256': sha256Hex(body) } };
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when a body is added to a request signed with an empty body, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = { ...original, headers: { ...original.headers, 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('Extra=x') };
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when a signed header (host) is changed, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = { ...original, headers: { ...original.headers, host: 'evil.example:80' } };
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });

    it('when an unsigned header (user-agent) is changed, it still accepts the request', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = { ...original, headers: { ...original.headers, 'user-agent': 'something else' } };
      await expect(authenticateAt(request, capturedAt(captured))).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it('when the stored secret differs from the one that signed, it throws SignatureDoesNotMatchError', async () => {
      const captured = captureNamed('openapi-v3-generate-data-key-query');
      const now = capturedAt(captured);
      await expect(authenticateAt(toRpcRequest(captured), now, { now, secret: 'another-secret-0123456789' })).rejects.toBeInstanceOf(
        SignatureDoesNotMatchError,
      );
    });

    it.each(['x-acs-action', 'x-acs-signature-nonce', 'x-acs-date', 'x-acs-content-sha256'])(
      'when a validly signed request does not sign %s, it throws IncompleteSignatureError',
      async (header) => {
        const captured = captureNamed('openapi-v3-encrypt-query');
        const original = toRpcRequest(captured);
        const request = resign(
          original,
          signedHeadersOf(original).filter((h) => h !== header),
        );
        const error = await authenticateAt(request, capturedAt(captured)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(IncompleteSignatureError);
        expect((error as Error).message).toContain(header);
      },
    );

    it('when a validly signed request leaves out only headers the service does not require (x-acs-version), it accepts it', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = resign(
        original,
        signedHeadersOf(original).filter((h) => h !== 'x-acs-version'),
      );
      await expect(authenticateAt(request, capturedAt(captured))).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it.each(['x-acs-signature-nonce', 'x-acs-date'])('when the %s header is missing, it throws IncompleteSignatureError', async (header) => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const headers = { ...original.headers };
      delete headers[header];
      await expect(authenticateAt({ ...original, headers }, capturedAt(captured))).rejects.toBeInstanceOf(IncompleteSignatureError);
    });

    it('when the Authorization header uses another scheme, it throws IncompleteSignatureError', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const original = toRpcRequest(captured);
      const request = {
        ...original,
        headers: { ...original.headers, authorization: original.headers.authorization!.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3') },
      };
      await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(IncompleteSignatureError);
    });

    it.each(['2026-11-22 18:20:33', 'Sun, 22 Nov 2026 18:20:33 GMT', ''])(
      'when x-acs-date is "%s", it throws IllegalTimestampError or IncompleteSignatureError',
      async (date) => {
        const captured = captureNamed('openapi-v3-encrypt-query');
        const original = toRpcRequest(captured);
        const request = { ...original, headers: { ...original.headers, 'x-acs-date': date } };
        await expect(authenticateAt(request, capturedAt(captured))).rejects.toBeInstanceOf(date === '' ? IncompleteSignatureError : IllegalTimestampError);
      },
    );

    it.each([16, -16])('when the server clock is %i minutes from x-acs-date, it throws TimestampExpiredError', async (minutes) => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      await expect(authenticateAt(toRpcRequest(captured), capturedAt(captured) + minutes * MINUTE)).rejects.toBeInstanceOf(TimestampExpiredError);
    });

    it.each([14, -14])('when the server clock is %i minutes from x-acs-date, it accepts the request', async (minutes) => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      await expect(authenticateAt(toRpcRequest(captured), capturedAt(captured) + minutes * MINUTE)).resolves.toBeDefined();
    });

    it('when the same request (same x-acs-signature-nonce) arrives twice, it throws SignatureNonceUsedError the second time', async () => {
      const captured = captureNamed('openapi-v3-encrypt-form-body');
      const deps = await authDeps({ now: capturedAt(captured) });
      const first = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(first, rpcParams(first), claimed), deps)).resolves.toBeDefined();
      const replay = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(replay, rpcParams(replay), claimed), deps)).rejects.toBeInstanceOf(SignatureNonceUsedError);
    });

    it('when a tampered request carries a nonce, the nonce is not consumed and the genuine request is accepted', async () => {
      const captured = captureNamed('openapi-v3-encrypt-form-body');
      const deps = await authDeps({ now: capturedAt(captured) });
      const original = toRpcRequest(captured);
      const forged = { ...original, body: Buffer.from(original.body.toString('utf8').replace('hello', 'HELLO')) };
      await expect(authenticate((claimed) => alibabaClaim(forged, rpcParams(forged), claimed), deps)).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
      const genuine = toRpcRequest(captured);
      await expect(authenticate((claimed) => alibabaClaim(genuine, rpcParams(genuine), claimed), deps)).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it('when the Credential names an unknown access key, it throws AccessKeyNotFoundError', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const now = capturedAt(captured);
      await expect(authenticateAt(toRpcRequest(captured), now, { now, accessKey: 'absent' })).rejects.toBeInstanceOf(AccessKeyNotFoundError);
    });

    it('when the access key is disabled, it throws AccessKeyInactiveError for a valid signature and SignatureDoesNotMatchError for a wrong one', async () => {
      const captured = captureNamed('openapi-v3-encrypt-query');
      const now = capturedAt(captured);
      const valid = toRpcRequest(captured);
      await expect(authenticateAt(valid, now, { now, status: 'Disabled' })).rejects.toBeInstanceOf(AccessKeyInactiveError);
      const forged = { ...valid, rawQuery: valid.rawQuery.replace('KeyId=alias%2Ftest', 'KeyId=alias%2Fother') };
      await expect(authenticateAt(forged, now, { now, status: 'Disabled' })).rejects.toBeInstanceOf(SignatureDoesNotMatchError);
    });
  });
});
