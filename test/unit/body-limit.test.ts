import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertBodyWithinLimit, assertFormBodyWithinLimit, bodyLimitOf, MAX_BODY_BYTES, MAX_SECRET_BODY_BYTES } from '../../lib/rpc/body-limit.js';
import { RequestTooLargeError } from '../../lib/errors.js';

/* Which requests may carry a secret's value, and so get the larger body limit: read from what a request says before its body. */

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('bodyLimitOf', () => {
  it('gives every AWS Secrets Manager operation the secret limit, and every AWS KMS operation the usual one', () => {
    for (const op of ['CreateSecret', 'PutSecretValue', 'GetSecretValue', 'Anything']) {
      expect(bodyLimitOf({ 'x-amz-target': `secretsmanager.${op}` }, '')).toBe(MAX_SECRET_BODY_BYTES);
      expect(bodyLimitOf({ 'x-amz-target': `TrentService.${op}` }, '')).toBe(MAX_BODY_BYTES);
    }
    // The target decides, whatever the query or the form says.
    expect(bodyLimitOf({ 'x-amz-target': 'TrentService.Encrypt', ...FORM }, 'Action=CreateSecret')).toBe(MAX_BODY_BYTES);
  });

  it.each(['CreateSecret', 'PutSecretValue', 'UpdateSecret'])('gives the Alibaba Action %s the secret limit, named in the header or the query', (action) => {
    expect(bodyLimitOf({ 'x-acs-action': action }, '')).toBe(MAX_SECRET_BODY_BYTES);
    expect(bodyLimitOf(FORM, `Action=${action}&Version=2016-01-20`)).toBe(MAX_SECRET_BODY_BYTES);
    expect(bodyLimitOf({}, `Format=JSON&Action=${action}`)).toBe(MAX_SECRET_BODY_BYTES);
  });

  it('gives every other named Action the usual limit, and a form whose Action is in the body the secret limit', () => {
    for (const action of ['Encrypt', 'GenerateDataKey', 'GetSecretValue', 'CreateSecretX', 'XCreateSecret']) {
      expect(bodyLimitOf({ 'x-acs-action': action, ...FORM }, ''), action).toBe(MAX_BODY_BYTES);
      expect(bodyLimitOf(FORM, `Action=${action}`), action).toBe(MAX_BODY_BYTES);
    }
    // A parameter whose name ends in Action is not the Action.
    expect(bodyLimitOf({}, 'NotAction=CreateSecret')).toBe(MAX_BODY_BYTES);
    expect(bodyLimitOf(FORM, 'NotAction=CreateSecret')).toBe(MAX_SECRET_BODY_BYTES);
    expect(bodyLimitOf(FORM, '')).toBe(MAX_SECRET_BODY_BYTES);
    expect(bodyLimitOf({ 'content-type': 'application/json' }, '')).toBe(MAX_BODY_BYTES);
  });

  it('is one of the two limits for any headers and query', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('x-amz-target', 'x-acs-action', 'content-type', 'x-other'), fc.string()), fc.string(), (headers, query) => {
        expect([MAX_BODY_BYTES, MAX_SECRET_BODY_BYTES]).toContain(bodyLimitOf(headers, query));
      }),
    );
  });

  it('refuses a body past its own limit with 413 RequestEntityTooLarge naming that limit', () => {
    const request = (headers: Record<string, string>, bytes: number) => ({ headers, rawQuery: '', body: Buffer.alloc(bytes) });
    expect(() => assertBodyWithinLimit(request({ 'x-amz-target': 'secretsmanager.CreateSecret' }, MAX_SECRET_BODY_BYTES))).not.toThrow();
    expect(() => assertBodyWithinLimit(request({ 'x-amz-target': 'secretsmanager.CreateSecret' }, MAX_SECRET_BODY_BYTES + 1))).toThrow(
      new RequestTooLargeError(MAX_SECRET_BODY_BYTES),
    );
    expect(() => assertBodyWithinLimit(request({ 'x-amz-target': 'TrentService.Encrypt' }, MAX_BODY_BYTES + 1))).toThrow(`exceeds ${MAX_BODY_BYTES} bytes`);
  });

  it('once a form is read, only an Action that writes a secret value keeps a body past 64 KiB', () => {
    for (const action of ['CreateSecret', 'PutSecretValue', 'UpdateSecret'])
      expect(() => assertFormBodyWithinLimit(action, MAX_SECRET_BODY_BYTES)).not.toThrow();
    for (const action of ['Encrypt', 'GetSecretValue', undefined]) {
      expect(() => assertFormBodyWithinLimit(action, MAX_BODY_BYTES)).not.toThrow();
      expect(() => assertFormBodyWithinLimit(action, MAX_BODY_BYTES + 1)).toThrow(new RequestTooLargeError(MAX_BODY_BYTES));
    }
  });
});
