import { percentEncode, rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The console's in-page signing (plain JavaScript served to the browser; WebCrypto is in Node too).
import * as page from '../../infra/console/signing.mjs';
import { ADMIN, createTestService } from '../helpers/service.js';

/** Parameter names and values as a caller may send them: any Unicode, the characters encoding treats specially, empty values. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', ' ', '+', '*', '~', "!'()", '%20', '&=', 'a/b', '中文', '😀', 'alias/x'),
);
const name = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,10}$/),
  text.filter((t) => t.length > 0),
);

describe('the console signs as the server verifies', () => {
  it('percent-encodes every string as the server does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (value) => {
        expect(page.percentEncode(value)).toBe(percentEncode(value));
      }),
      { numRuns: 500 },
    );
  });

  it('builds the same string to sign and the same signature for any parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, text, { maxKeys: 8 }), fc.string({ maxLength: 40 }), async (params, secret) => {
        const server = rpcStringToSign('GET', Object.entries(params));
        expect(page.rpcStringToSign('GET', params)).toBe(server);
        expect(await page.rpcSignature(secret, server)).toBe(rpcSignature(secret, server));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves Signature out of the string to sign, and upper-cases the method', () => {
    expect(page.rpcStringToSign('get', { B: '2', A: '1', Signature: 'x' })).toBe('GET&%2F&A%3D1%26B%3D2');
  });

  it('formats the Timestamp in whole seconds, UTC', () => {
    expect(page.rpcTimestamp(new Date('2026-12-07T10:11:12.345Z'))).toBe('2026-12-07T10:11:12Z');
  });

  it('makes queries the server accepts, and a wrong secret or a changed parameter the server refuses', async () => {
    const { call } = await createTestService();
    const credentials = { id: ADMIN.accessKeyId, secret: ADMIN.accessKeySecret };
    const request = (rawQuery: string) => ({ method: 'GET', path: '/', rawQuery, headers: { host: '127.0.0.1' }, body: Buffer.alloc(0) });
    const ok = await call(request(await page.signedRpcQuery('ListKeys', { PageSize: '5', Description: 'a b+c/中*' }, credentials)));
    expect(ok.status).toBe(200);
    expect(ok.body.PageSize).toBe(5);

    const wrong = await call(request(await page.signedRpcQuery('ListKeys', {}, { ...credentials, secret: 'not-it' })));
    expect(wrong.body.Code).toBe('SignatureDoesNotMatch');
    const tampered = (await page.signedRpcQuery('ListKeys', { PageSize: '5' }, credentials)).replace('PageSize=5', 'PageSize=6');
    expect((await call(request(tampered))).body.Code).toBe('SignatureDoesNotMatch');
    // A fresh nonce each time: the same query twice is a replay.
    const once = await page.signedRpcQuery('ListKeys', {}, credentials);
    expect((await call(request(once))).status).toBe(200);
    expect((await call(request(once))).body.Code).toBe('SignatureNonceUsed');
  });
});
