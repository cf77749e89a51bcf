import { sigV4Signature, sigV4SignatureWithKey, sigV4SigningKey } from '@alibaba-kms-compatible/client/signing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigningKeys } from '../../lib/auth/sigv4-signing-keys.js';

const scope = fc.record({ date: fc.constantFrom('20261206', '20261207'), region: fc.constantFrom('us-east-1', 'eu-west-1', 'cn-hangzhou') });

describe('SigV4 signing keys kept per secret, day and region', () => {
  it('a kept key signs exactly as a key derived afresh, for any secret, scope and request', () => {
    const keys = new SigningKeys();
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), scope, fc.string(), (secret, s, canonical) => {
        const amzDate = `${s.date}T120000Z`;
        expect(sigV4SignatureWithKey(keys.of(secret, s), s, amzDate, canonical)).toBe(sigV4Signature(secret, s, amzDate, canonical));
        // Asked again: the kept key, still right.
        expect(sigV4SignatureWithKey(keys.of(secret, s), s, amzDate, canonical)).toBe(sigV4Signature(secret, s, amzDate, canonical));
      }),
    );
  });

  it('a secret never gets another secret’s key, nor a key of another day or region', () => {
    const keys = new SigningKeys();
    const a = keys.of('secret-a', { date: '20261207', region: 'us-east-1' });
    expect(keys.of('secret-b', { date: '20261207', region: 'us-east-1' }).equals(a)).toBe(false);
    expect(keys.of('secret-a', { date: '20261206', region: 'us-east-1' }).equals(a)).toBe(false);
    expect(keys.of('secret-a', { date: '20261207', region: 'eu-west-1' }).equals(a)).toBe(false);
    expect(keys.of('secret-a', { date: '20261207', region: 'us-east-1' })).toBe(a);
  });

  it('holds at most its bound: the oldest key is dropped and zeroed, and derived again when asked for', () => {
    const keys = new SigningKeys(3);
    const day = { date: '20261207', region: 'us-east-1' };
    const first = keys.of('s0', day);
    for (let i = 1; i <= 5; i++) keys.of(`s${i}`, day);
    expect(keys.size).toBe(3);
    expect(first.equals(Buffer.alloc(32))).toBe(true);
    expect(keys.of('s0', day).equals(sigV4SigningKey('s0', day))).toBe(true);
    expect(keys.size).toBe(3);
  });
});
