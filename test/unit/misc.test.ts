import type { ALBEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { fromLambdaEvent, isAlbEvent, toLambdaResult } from '../../lib/adapters/aws-lambda.js';
import { authenticate } from '../../lib/auth/authenticate.js';
import { alibabaClaim } from '../../lib/protocol/alibaba/codec.js';
import { MemoryNonceStore } from '../../lib/keystore/nonce-store.js';
import * as errors from '../../lib/errors.js';
import { awsErrorOf } from '../../lib/protocol/aws/wire.js';
import { rpcParams } from '../../lib/rpc/params.js';
import type { RpcResponse } from '../../lib/rpc/request.js';
import { errorResponse, parseFormat, successResponse } from '../../lib/protocol/alibaba/serialize.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import { authDeps, capturedAt, captureNamed, toRpcRequest } from '../helpers/client-captures.js';

const MINUTE = 60_000;

/** A clock the test moves by hand. */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

/** Lets promise callbacks (onEvict runs after the value settles) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Module: nonce-store', () => {
  describe('class MemoryNonceStore', () => {
    it('when a nonce is claimed the first time, it returns true; a replay returns false', async () => {
      const clock = manualClock();
      const store = new MemoryNonceStore(clock.now);
      expect(await store.claim('LTAIkey00001', 'nonce-1', clock.now() + 15 * MINUTE)).toBe(true);
      expect(await store.claim('LTAIkey00001', 'nonce-1', clock.now() + 15 * MINUTE)).toBe(false);
      expect(await store.claim('LTAIkey00001', 'nonce-2', clock.now() + 15 * MINUTE)).toBe(true);
    });

    it('when another access key uses the same nonce, it is its own and accepted', async () => {
      const clock = manualClock();
      const store = new MemoryNonceStore(clock.now);
      expect(await store.claim('LTAIkeyA0001', 'shared', clock.now() + MINUTE)).toBe(true);
      expect(await store.claim('LTAIkeyB0001', 'shared', clock.now() + MINUTE)).toBe(true);
      expect(await store.claim('LTAIkeyA0001', 'shared', clock.now() + MINUTE)).toBe(false);
    });

    it('when a key id and nonce could be joined ambiguously, they stay distinct', async () => {
      const clock = manualClock();
      const store = new MemoryNonceStore(clock.now);
      expect(await store.claim('ab', 'c', clock.now() + MINUTE)).toBe(true);
      expect(await store.claim('a', 'bc', clock.now() + MINUTE)).toBe(true);
    });

    it('when the clock is still before expiresAt, the nonce is remembered; well after it, it is forgotten', async () => {
      const clock = manualClock();
      const store = new MemoryNonceStore(clock.now);
      const expiresAt = clock.now() + 15 * MINUTE;
      await store.claim('LTAIkey00001', 'n', expiresAt);
      clock.set(expiresAt - 1);
      expect(await store.claim('LTAIkey00001', 'n', expiresAt)).toBe(false);
      clock.set(expiresAt + 2 * MINUTE);
      expect(await store.claim('LTAIkey00001', 'n', clock.now() + 15 * MINUTE)).toBe(true);
      expect(await store.claim('LTAIkey00001', 'n', clock.now() + 15 * MINUTE)).toBe(false);
    });
  });
});

describe('Module: ttl-cache', () => {
  describe('class TtlCache', () => {
    it('when read within the ttl, it returns the loaded value without loading again; at the ttl it reloads', async () => {
      const clock = manualClock();
      const cache = new TtlCache<string, number>({ ttlMs: 1000, maxEntries: 10, now: clock.now });
      let loads = 0;
      const load = async () => ++loads;
      expect(await cache.get('k', load)).toBe(1);
      clock.advance(999);
      expect(await cache.get('k', load)).toBe(1);
      clock.advance(1);
      expect(await cache.get('k', load)).toBe(2);
      expect(loads).toBe(2);
    });

    it('when several misses for one key arrive before the load settles, they share one load', async () => {
      const cache = new TtlCache<string, string>({ ttlMs: 1000, maxEntries: 10, now: manualClock().now });
      let loads = 0;
      let release!: (v: string) => void;
      const load = () => {
        loads++;
        return new Promise<string>((resolve) => (release = resolve));
      };
      const pending = [cache.get('k', load), cache.get('k', load), cache.get('k', load)];
      release('value');
      expect(await Promise.all(pending)).toEqual(['value', 'value', 'value']);
      expect(loads).toBe(1);
    });

    it('when a load fails, the failure is not cached and the next get loads again', async () => {
      const cache = new TtlCache<string, string>({ ttlMs: 60_000, maxEntries: 10, now: manualClock().now });
      await expect(cache.get('k', async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
      await settle();
      expect(await cache.get('k', async () => 'recovered')).toBe('recovered');
    });

    it('when values leave by expiry, delete, clear or overflow, onEvict sees each one (and never a failed load)', async () => {
      const clock = manualClock();
      const evicted: string[] = [];
      const cache = new TtlCache<string, string>({ ttlMs: 1000, maxEntries: 2, now: clock.now, onEvict: (v) => evicted.push(v) });
      await cache.get('a', async () => 'a1');
      clock.advance(1000);
      await cache.get('a', async () => 'a2'); // expiry: a1 leaves
      cache.delete('a'); // a2 leaves
      await cache.get('b', async () => 'b1');
      cache.delete('b'); // b1 leaves
      await cache.get('b', async () => 'b2');
      await cache.get('c', async () => 'c1');
      await cache.get('d', async () => 'd1'); // over maxEntries: the oldest (b2) leaves
      await cache.get('e', async () => Promise.reject(new Error('x'))).catch(() => undefined); // c1 leaves for room; the failure is not evicted
      await settle();
      cache.clear();
      await settle();
      expect(evicted).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'd1']);
    });

    it('when an entry is deleted (a writer’s drop) or the cache cleared while its load runs, that load’s value never comes back: the next get loads again', async () => {
      for (const drop of [(cache: TtlCache<string, string>) => cache.delete('k'), (cache: TtlCache<string, string>) => cache.clear()]) {
        const cache = new TtlCache<string, string>({ ttlMs: 60_000, maxEntries: 10, now: manualClock().now });
        let release!: (v: string) => void;
        const inFlight = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)));
        drop(cache);
        release('before the write');
        expect(await inFlight).toBe('before the write');
        expect(await cache.get('k', async () => 'after the write')).toBe('after the write');
        expect(await cache.get('k', async () => 'not loaded')).toBe('after the write');
      }
    });
  });
});

describe('Module: adapters/aws-lambda', () => {
  function apiGatewayEvent(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/',
      rawQueryString: '',
      headers: {},
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'kms.example.com',
        domainPrefix: 'kms',
        http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
        requestId: 'req',
        routeKey: '$default',
        stage: '$default',
        time: '01/Jan/2026:00:00:00 +0000',
        timeEpoch: 0,
      },
      isBase64Encoded: false,
      ...overrides,
    };
  }

  function albEvent(overrides: Partial<ALBEvent> = {}): ALBEvent {
    return {
      requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kms/abc' } },
      httpMethod: 'GET',
      path: '/',
      body: null,
      isBase64Encoded: false,
      ...overrides,
    };
  }

  const response: RpcResponse = {
    statusCode: 200,
    headers: { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': 'r' },
    body: '{"RequestId":"r"}',
  };

  describe('function fromLambdaEvent', () => {
    it('when given an API Gateway v2 event, it keeps the raw query exactly, lower-cases headers and decodes a base64 body', () => {
      const event = apiGatewayEvent({
        rawPath: '/',
        rawQueryString: "KeyId=alias%2Ftest&Plaintext=a%20b*!'()",
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'x-acs-action': 'Encrypt', accept: 'a, b' },
        body: Buffer.from('DryRun=true').toString('base64'),
        isBase64Encoded: true,
      });
      expect(isAlbEvent(event)).toBe(false);
      const request = fromLambdaEvent(event);
      expect(request).toMatchObject({ method: 'POST', path: '/', rawQuery: "KeyId=alias%2Ftest&Plaintext=a%20b*!'()", sourceIp: '203.0.113.9' });
      expect(request.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': 'Encrypt', accept: 'a, b' });
      expect(request.body.toString('utf8')).toBe('DryRun=true');
      expect(Object.fromEntries(rpcParams(request).all)).toEqual({ KeyId: 'alias/test', Plaintext: "a b*!'()", DryRun: 'true' });
    });

    it('when an API Gateway event has a text body or none, the body is its UTF-8 bytes or empty', () => {
      expect(fromLambdaEvent(apiGatewayEvent({ body: 'Plaintext=中' })).body.toString('utf8')).toBe('Plaintext=中');
      expect(fromLambdaEvent(apiGatewayEvent()).body.length).toBe(0);
    });

    it('when a request the V3 client signed arrives through API Gateway, authenticate accepts it', async () => {
      const captured = captureNamed('openapi-v3-encrypt-form-body');
      const original = toRpcRequest(captured);
      const event = apiGatewayEvent({
        rawQueryString: original.rawQuery,
        headers: captured.headers,
        body: original.body.toString('base64'),
        isBase64Encoded: true,
      });
      const request = fromLambdaEvent(event);
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).resolves.toMatchObject({ action: 'Encrypt' });
    });

    it('when given an ALB event with single-value headers and query, it rebuilds the raw query from the un-decoded values', () => {
      const event = albEvent({
        headers: { Host: 'kms.example.com', 'X-Forwarded-For': '198.51.100.7, 10.0.0.1' },
        queryStringParameters: { KeyId: 'alias%2Ftest', Plaintext: 'a%20b%2Bc', Empty: '' },
      });
      expect(isAlbEvent(event)).toBe(true);
      const request = fromLambdaEvent(event);
      // The ALB appends the peer it saw: a client's own X-Forwarded-For entries are not its address.
      expect(request).toMatchObject({ method: 'GET', path: '/', rawQuery: 'KeyId=alias%2Ftest&Plaintext=a%20b%2Bc&Empty=', sourceIp: '10.0.0.1' });
      expect(request.headers).toEqual({ host: 'kms.example.com', 'x-forwarded-for': '198.51.100.7, 10.0.0.1' });
      expect(rpcParams(request).all.get('Plaintext')).toBe('a b+c');
      expect(rpcParams(request).all.get('KeyId')).toBe('alias/test');
    });

    it('when given an ALB event with multi-value headers and query, it joins repeated headers with ", " and repeats query pairs', () => {
      const event = albEvent({
        httpMethod: 'POST',
        multiValueHeaders: { Accept: ['text/xml', 'application/json'], 'X-Forwarded-For': ['192.0.2.1'] },
        multiValueQueryStringParameters: { A: ['1', '2'], B: ['x%20y'] },
        body: Buffer.from('C=3').toString('base64'),
        isBase64Encoded: true,
      });
      const request = fromLambdaEvent(event);
      expect(request.headers).toEqual({ accept: 'text/xml, application/json', 'x-forwarded-for': '192.0.2.1' });
      expect(request.rawQuery).toBe('A=1&A=2&B=x%20y');
      expect(request.sourceIp).toBe('192.0.2.1');
      expect(request.body.toString('utf8')).toBe('C=3');
    });

    it('when a request pop-core signed arrives through an ALB (values un-decoded), authenticate accepts it', async () => {
      const captured = captureNamed('pop-core-get-encrypt');
      const query = toRpcRequest(captured).rawQuery;
      const queryStringParameters = Object.fromEntries(query.split('&').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      const request = fromLambdaEvent(albEvent({ headers: captured.headers, queryStringParameters }));
      expect(request.rawQuery).toBe(query);
      await expect(
        authenticate((claimed) => alibabaClaim(request, rpcParams(request), claimed), await authDeps({ now: capturedAt(captured) })),
      ).resolves.toMatchObject({ action: 'Encrypt' });
    });
  });

  describe('function toLambdaResult', () => {
    it('when the event came from API Gateway, it returns status, headers and body, not base64', () => {
      expect(toLambdaResult(apiGatewayEvent(), response)).toEqual({ statusCode: 200, headers: response.headers, body: response.body, isBase64Encoded: false });
    });

    it('when the event came from an ALB with single-value headers, it adds a status description and single-value headers in canonical case', () => {
      expect(toLambdaResult(albEvent({ headers: {} }), { ...response, statusCode: 404 })).toEqual({
        statusCode: 404,
        statusDescription: '404 Not Found',
        headers: { 'Content-Type': 'application/json;charset=utf-8', 'X-Acs-Request-Id': 'r' },
        body: response.body,
        isBase64Encoded: false,
      });
    });

    it('when the event came from an ALB with multi-value headers, it answers with multi-value headers', () => {
      const result = toLambdaResult(albEvent({ multiValueHeaders: { Host: ['h'] } }), response);
      expect(result).toEqual({
        statusCode: 200,
        statusDescription: '200 OK',
        multiValueHeaders: { 'Content-Type': ['application/json;charset=utf-8'], 'X-Acs-Request-Id': ['r'] },
        body: response.body,
        isBase64Encoded: false,
      });
    });

    it.each([
      [400, '400 Bad Request'],
      [403, '403 Forbidden'],
      [409, '409 Conflict'],
      [429, '429 Too Many Requests'],
      [500, '500 Internal Server Error'],
      [503, '503 Service Unavailable'],
      [418, '418'],
    ])('when an ALB answer has status %i, the description is "%s"', (status, description) => {
      expect(toLambdaResult(albEvent(), { ...response, statusCode: status })).toMatchObject({ statusDescription: description });
    });
  });
});

describe('Module: errors', () => {
  it('when a message echoes caller text of control characters (each written as an escape), the echo stays within 128 characters', async () => {
    const { AliasNotFoundError } = await import('../../lib/errors.js');
    for (const text of ['\u0000'.repeat(300), '\u{10FFFF}'.repeat(300), 'x'.repeat(300)]) {
      const message = new AliasNotFoundError(`alias/${text}`).message;
      expect(message.length, JSON.stringify(message.slice(0, 40))).toBeLessThanOrEqual(400);
    }
  });

  /** The reference's error table (§4), plus two of ours: an oversized body and a disabled access key. */
  const TABLE: Array<[name: string, make: () => errors.KmsError, status: number, code: string]> = [
    ['MissingParameterError', () => new errors.MissingParameterError('KeyId'), 400, 'MissingParameter'],
    ['InvalidParameterError', () => new errors.InvalidParameterError('KeyId'), 400, 'InvalidParameter'],
    ['IncompleteSignatureError', () => new errors.IncompleteSignatureError('x'), 400, 'IncompleteSignature'],
    ['SignatureDoesNotMatchError', () => new errors.SignatureDoesNotMatchError(), 400, 'SignatureDoesNotMatch'],
    ['TimestampExpiredError', () => new errors.TimestampExpiredError(15), 400, 'InvalidTimeStamp.Expired'],
    ['IllegalTimestampError', () => new errors.IllegalTimestampError('Timestamp'), 400, 'IllegalTimestamp'],
    ['SignatureNonceUsedError', () => new errors.SignatureNonceUsedError(), 400, 'SignatureNonceUsed'],
    ['AccessKeyNotFoundError', () => new errors.AccessKeyNotFoundError(), 404, 'InvalidAccessKeyId.NotFound'],
    ['AccessKeyInactiveError', () => new errors.AccessKeyInactiveError(), 403, 'InvalidAccessKeyId.Inactive'],
    ['ActionNotFoundError', () => new errors.ActionNotFoundError('Nope'), 404, 'InvalidAction.NotFound'],
    ['NoPermissionError', () => new errors.NoPermissionError('kms:Decrypt', 'acs:kms:r:1:key/k'), 403, 'Forbidden.NoPermission'],
    ['KeyNotFoundError', () => new errors.KeyNotFoundError('k'), 404, 'Forbidden.KeyNotFound'],
    ['AliasNotFoundError', () => new errors.AliasNotFoundError('alias/a'), 404, 'Forbidden.AliasNotFound'],
    ['KeyVersionNotFoundError', () => new errors.KeyVersionNotFoundError('v'), 404, 'Forbidden.KeyVersionNotFound'],
    ['AliasAlreadyExistsError', () => new errors.AliasAlreadyExistsError('alias/a'), 400, 'AliasAlreadyExists'],
    ['KeyDisabledError', () => new errors.KeyDisabledError('k'), 409, 'Rejected.Disabled'],
    ['KeyPendingDeletionError', () => new errors.KeyPendingDeletionError('k'), 409, 'Rejected.PendingDeletion'],
    ['AliasChangedError', () => new errors.AliasChangedError('alias/a'), 409, 'Rejected.ConcurrentModification'],
    ['StateModifiedFailedError', () => new errors.StateModifiedFailedError('k', 'PendingDeletion'), 409, 'Rejected.StateModifiedFailed'],
    ['InvalidCiphertextError', () => new errors.InvalidCiphertextError(), 400, 'InvalidCiphertext'],
    ['IncorrectKeyError', () => new errors.IncorrectKeyError('KeyId'), 400, 'IncorrectKey'],
    ['ThrottlingError', () => new errors.ThrottlingError(), 429, 'Rejected.Throttling'],
    ['InternalFailureError', () => new errors.InternalFailureError(), 500, 'InternalFailure'],
    ['ServiceUnavailableError', () => new errors.ServiceUnavailableError(), 503, 'ServiceUnavailableTemporary'],
    ['FunctionUnavailableError', () => new errors.FunctionUnavailableError(), 503, 'ServiceUnavailableTemporary'],
    ['AuditLogUnavailableError', () => new errors.AuditLogUnavailableError(), 503, 'ServiceUnavailableTemporary'],
    ['AuditEventsNotKeptError', () => new errors.AuditEventsNotKeptError(), 400, 'UnsupportedOperation'],
    ['AuditTrailUnavailableError', () => new errors.AuditTrailUnavailableError(), 503, 'ServiceUnavailableTemporary'],
    ['DeletionProtectedError', () => new errors.DeletionProtectedError('k'), 409, 'Rejected.StateModifiedFailed'],
    ['DryRunOperationError', () => new errors.DryRunOperationError(), 412, 'DryRunOperationError'],
    ['InvalidNextTokenError', () => new errors.InvalidNextTokenError(), 400, 'InvalidParameter'],
    ['KeyPendingImportError', () => new errors.KeyPendingImportError('k'), 409, 'Rejected.PendingImport'],
    ['UnsupportedOriginError', () => new errors.UnsupportedOriginError('k', 'Aliyun_KMS'), 400, 'Unsupported.Origin'],
    ['InvalidImportTokenError', () => new errors.InvalidImportTokenError(), 400, 'InvalidImportToken'],
    ['ExpiredImportTokenError', () => new errors.ExpiredImportTokenError(), 400, 'ExpiredImportToken'],
    ['InvalidKeyMaterialError', () => new errors.InvalidKeyMaterialError(), 400, 'InvalidKeyMaterial'],
    ['KeyMaterialBusyError', () => new errors.KeyMaterialBusyError('k'), 409, 'Rejected.ConcurrentModification'],
    ['TagLimitExceededError', () => new errors.TagLimitExceededError(20), 400, 'Rejected.LimitExceeded'],
    ['ResourceNotFoundError', () => new errors.ResourceNotFoundError('SecretName'), 404, 'Forbidden.ResourceNotFound'],
    ['RequestTooLargeError', () => new errors.RequestTooLargeError(1024), 413, 'RequestEntityTooLarge'],
    ['UnsupportedMediaTypeError', () => new errors.UnsupportedMediaTypeError(), 415, 'UnsupportedMediaType'],
    ['MalformedRequestError', () => new errors.MalformedRequestError(), 400, 'MalformedRequest'],
    ['KeyUsageError', () => new errors.KeyUsageError('k', 'its KeyUsage is SIGN/VERIFY.'), 400, 'UnsupportedOperation'],
    ['UnsupportedKeyOperationError', () => new errors.UnsupportedKeyOperationError('k', 'it has no key pair.'), 400, 'UnsupportedOperation'],
    ['UnsupportedKeySpecError', () => new errors.UnsupportedKeySpecError('KeySpec', 'SM2 is not supported.'), 400, 'InvalidParameter'],
    ['InvalidSignatureError', () => new errors.InvalidSignatureError(), 400, 'InvalidSignature'],
    ['InvalidMacError', () => new errors.InvalidMacError(), 400, 'InvalidMac'],
    ['SecretNotFoundError', () => new errors.SecretNotFoundError('db/pass'), 404, 'Forbidden.ResourceNotFound'],
    ['SecretVersionNotFoundError', () => new errors.SecretVersionNotFoundError('db/pass', { stage: 'ACSCurrent' }), 404, 'Forbidden.ResourceNotFound'],
    ['SecretExistsError', () => new errors.SecretExistsError('db/pass'), 409, 'Rejected.ResourceExist'],
    ['SecretVersionExistsError', () => new errors.SecretVersionExistsError('db/pass', 'v1'), 409, 'Rejected.ResourceExist'],
    ['SecretInDeleteWindowError', () => new errors.SecretInDeleteWindowError('db/pass'), 409, 'Rejected.ResourceInDeleteWindow'],
    ['SecretNotPendingDeletionError', () => new errors.SecretNotPendingDeletionError('db/pass'), 409, 'Rejected.ResourceInUse'],
    ['SecretLimitExceededError', () => new errors.SecretLimitExceededError('db/pass', 'x'), 400, 'Rejected.LimitExceeded'],
    ['SecretStageRuleError', () => new errors.SecretStageRuleError('db/pass', 'x'), 400, 'InvalidParameter'],
  ];

  it.each([
    ['KeyUsageError', () => new errors.KeyUsageError('k', 'x'), 'InvalidKeyUsageException'],
    ['UnsupportedKeyOperationError', () => new errors.UnsupportedKeyOperationError('k', 'x'), 'UnsupportedOperationException'],
    ['UnsupportedKeySpecError', () => new errors.UnsupportedKeySpecError('KeySpec', 'x'), 'UnsupportedOperationException'],
    ['InvalidSignatureError', () => new errors.InvalidSignatureError(), 'KMSInvalidSignatureException'],
    ['InvalidMacError', () => new errors.InvalidMacError(), 'KMSInvalidMacException'],
    ['KeyDisabledError', () => new errors.KeyDisabledError('k'), 'DisabledException'],
    ['SecretNotFoundError', () => new errors.SecretNotFoundError('s'), 'ResourceNotFoundException'],
    ['SecretVersionNotFoundError', () => new errors.SecretVersionNotFoundError('s', { versionId: 'v' }), 'ResourceNotFoundException'],
    ['SecretExistsError', () => new errors.SecretExistsError('s'), 'ResourceExistsException'],
    ['SecretVersionExistsError', () => new errors.SecretVersionExistsError('s', 'v'), 'ResourceExistsException'],
    ['SecretInDeleteWindowError', () => new errors.SecretInDeleteWindowError('s'), 'InvalidRequestException'],
    ['SecretNotPendingDeletionError', () => new errors.SecretNotPendingDeletionError('s'), 'InvalidRequestException'],
    ['SecretLimitExceededError', () => new errors.SecretLimitExceededError('s', 'x'), 'LimitExceededException'],
    ['SecretStageRuleError', () => new errors.SecretStageRuleError('s', 'x'), 'InvalidParameterException'],
  ] as const)('a %s reaches an AWS client as %s (a client error: 400)', (_name, make, type) => {
    expect(awsErrorOf(make())).toEqual({ type, status: make().statusCode >= 500 ? make().statusCode : 400 });
  });

  it('when every error class of lib/errors.ts is listed, the table has each exactly once', () => {
    const classes = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof errors.KmsError)
      .map(([name]) => name)
      .sort();
    expect(TABLE.map(([name]) => name).sort()).toEqual(classes);
  });

  it.each(TABLE)('when a %s is made, it has HTTP status and Code of the reference table', (name, make, status, code) => {
    const error = make();
    expect(error).toBeInstanceOf(errors.KmsError);
    expect(error).toBeInstanceOf(Error);
    expect(error.constructor.name).toBe(name);
    expect(error.name).toBe(name);
    expect({ status: error.statusCode, code: error.code }).toEqual({ status, code });
    expect(error.recommend).toBe('');
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('when MissingParameter and InvalidParameter are made, their messages follow the reference wording', () => {
    expect(new errors.MissingParameterError('KeyId').message).toBe('The parameter "KeyId" is needed but not provided.');
    expect(new errors.InvalidParameterError('KeyId').message).toBe('The specified parameter "KeyId" is not valid.');
    expect(new errors.InvalidParameterError('KeyId', 'It must not be empty.').message).toBe(
      'The specified parameter "KeyId" is not valid. It must not be empty.',
    );
  });

  it('when InvalidCiphertext is made, the message names both causes: a corrupt blob or a different EncryptionContext', () => {
    const message = new errors.InvalidCiphertextError().message;
    expect(message).toMatch(/corrupt/);
    expect(message).toMatch(/EncryptionContext/);
  });

  it('when caller text is echoed, it is cut to 128 characters', () => {
    const message = new errors.KeyNotFoundError('k'.repeat(1000)).message;
    expect(message).toContain(`${'k'.repeat(128)}…`);
    expect(message).not.toContain('k'.repeat(129));
  });
});

describe('Module: protocol/alibaba/serialize', () => {
  describe('function parseFormat', () => {
    it.each([
      [undefined, 'JSON'],
      ['', 'JSON'],
      ['JSON', 'JSON'],
      ['json', 'JSON'],
      ['Json', 'JSON'],
      ['XML', 'XML'],
      ['xml', 'XML'],
      ['xMl', 'XML'],
      ['yaml', undefined],
      [' JSON', undefined],
      ['JSONP', undefined],
    ] as const)('when Format is %j, it returns %j', (value, expected) => {
      expect(parseFormat(value)).toBe(expected);
    });
  });

  describe('function successResponse', () => {
    it('when JSON, it answers 200 with RequestId first, then the fields in order', () => {
      const r = successResponse('JSON', 'req-1', { KeyId: 'k', KeyVersionId: 'v' });
      expect(r.statusCode).toBe(200);
      expect(r.headers).toEqual({ 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': 'req-1' });
      expect(r.body).toBe('{"RequestId":"req-1","KeyId":"k","KeyVersionId":"v"}');
    });

    it('when XML, it writes the declaration and a <KMS> root, escaping <, & and >', () => {
      const r = successResponse('XML', 'req-1', { KeyId: 'a<b&c>d', Count: 2 });
      expect(r.headers['content-type']).toBe('text/xml;charset=utf-8');
      expect(r.body).toBe('<?xml version="1.0" encoding="UTF-8"?><KMS><RequestId>req-1</RequestId><KeyId>a&lt;b&amp;c&gt;d</KeyId><Count>2</Count></KMS>');
    });

    it('when XML has a list, each item is a repeated element', () => {
      const r = successResponse('XML', 'r', { Keys: { Key: [{ KeyId: '1' }, { KeyId: '2' }] } });
      expect(r.body).toContain('<Keys><Key><KeyId>1</KeyId></Key><Key><KeyId>2</KeyId></Key></Keys>');
    });
  });

  describe('function errorResponse', () => {
    const error = new errors.InvalidParameterError('Key<&>');

    it('when JSON, it answers with the error status and RequestId, HostId, Code, Message, Recommend', () => {
      const r = errorResponse('JSON', 'req-2', 'kms.local', error);
      expect(r.statusCode).toBe(400);
      expect(r.headers).toEqual({ 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': 'req-2' });
      expect(JSON.parse(r.body)).toEqual({ RequestId: 'req-2', HostId: 'kms.local', Code: 'InvalidParameter', Message: error.message, Recommend: '' });
      expect(Object.keys(JSON.parse(r.body))).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    });

    it('when XML, it writes <Error> with the same fields, escaped', () => {
      const r = errorResponse('XML', 'req-2', 'kms.local', error);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toBe('text/xml;charset=utf-8');
      expect(r.body).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>req-2</RequestId><HostId>kms.local</HostId><Code>InvalidParameter</Code>' +
          '<Message>The specified parameter &quot;Key&lt;&amp;&gt;&quot; is not valid.</Message><Recommend></Recommend></Error>',
      );
    });

    it('when the error has another status, the response carries it', () => {
      expect(errorResponse('JSON', 'r', 'h', new errors.ServiceUnavailableError()).statusCode).toBe(503);
      expect(errorResponse('XML', 'r', 'h', new errors.KeyDisabledError('k')).statusCode).toBe(409);
    });
  });
});
