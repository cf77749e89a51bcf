import { describe, expect, it } from 'vitest';
import type { ConditionContext } from '../../lib/policy/conditions.js';
import { compilePolicy, InvalidPolicyError, parsePolicyDocument, type PolicyDocument, policyDocumentSchema } from '../../lib/policy/policy.js';

const ARN = 'acs:kms:cn-hangzhou:1234567890123456:key/11111111-2222-4333-8444-555555555555';
const NOW = Date.parse('2025-06-01T12:00:00Z');

type Statement = PolicyDocument['Statement'][number];
type Condition = NonNullable<Statement['Condition']>;

const document = (...statements: unknown[]) => ({ Version: '1', Statement: statements });
const allowIf = (Condition: unknown) => ({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition });
const denyIf = (Condition: unknown) => ({ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition });
const compiled = (...statements: unknown[]) => compilePolicy(policyDocumentSchema.parse(document(...statements)));

const context = (overrides: Partial<ConditionContext> & { ec?: Record<string, string> } = {}): ConditionContext => ({
  encryptionContext: new Map(Object.entries(overrides.ec ?? {})),
  sourceIp: 'sourceIp' in overrides ? overrides.sourceIp : '203.0.113.7',
  secureTransport: overrides.secureTransport ?? false,
  now: overrides.now ?? NOW,
});

/** Whether an Allow of kms:Decrypt with this condition allows the request. */
const allows = (condition: Condition, ctx: ConditionContext | undefined) => compiled(allowIf(condition)).isAllowed('kms:Decrypt', ARN, ctx);

describe('Module: policy conditions and actions', () => {
  describe('Action patterns', () => {
    it.each(['*', 'kms:*', 'kms:Decrypt', 'KMS:DECRYPT', 'kms:decrypt', 'kms:GenerateDataKey*', 'kms:?ecrypt', 'kms:*Alias*', 'kms:DescribeKeyVersion'])(
      'when the policy names "%s", it is accepted',
      (action) => {
        expect(policyDocumentSchema.safeParse(document({ Effect: 'Allow', Action: action, Resource: '*' })).success).toBe(true);
      },
    );

    it.each([
      ['kms:Decrpyt', /"kms:Decrpyt" is not an action of this service/],
      ['kms:Foo*', /"kms:Foo\*" matches no action of this service/],
      ['ecs:*', /matches no action/],
      ['kms:Decrypt ', /is not an action/],
      ['kms:TagResources', /is not an action/],
      ['kms.Decrypt', /is not an action/],
    ])('when the policy names "%s", it is refused with a clear message', (action, message) => {
      expect(() => parsePolicyDocument(document({ Effect: 'Allow', Action: action, Resource: '*' }))).toThrow(message);
      expect(() => parsePolicyDocument(document({ Effect: 'Deny', Action: ['kms:Encrypt', action], Resource: '*' }))).toThrow(/Statement\[0\]\.Action\[1\]/);
    });

    it('when a policy is refused, the error is an InvalidPolicyError naming the place', () => {
      expect(() => parsePolicyDocument(document({ Effect: 'Allow', Action: 'kms:Decrpyt', Resource: '*' }))).toThrow(InvalidPolicyError);
      expect(() => parsePolicyDocument(document({ Effect: 'Allow', Action: 'kms:Decrpyt', Resource: '*' }))).toThrow(
        /^the policy is not valid: Statement\[0\]\.Action: /,
      );
    });
  });

  describe('operators', () => {
    const ec = (key: string, values: string | string[]) => ({ [`kms:EncryptionContext:${key}`]: values });

    it.each<[string, Condition, Parameters<typeof context>[0], boolean]>([
      // StringEquals: exact, case-sensitive; any listed value.
      ['StringEquals, equal', { StringEquals: ec('partition', 'orders-1') }, { ec: { partition: 'orders-1' } }, true],
      ['StringEquals, other value', { StringEquals: ec('partition', 'orders-1') }, { ec: { partition: 'orders-2' } }, false],
      ['StringEquals, other case', { StringEquals: ec('partition', 'orders-1') }, { ec: { partition: 'ORDERS-1' } }, false],
      ['StringEquals, one of a list', { StringEquals: ec('partition', ['a', 'b']) }, { ec: { partition: 'b' } }, true],
      ['StringEquals, none of a list', { StringEquals: ec('partition', ['a', 'b']) }, { ec: { partition: 'c' } }, false],
      ['StringEquals, "*" is literal', { StringEquals: ec('partition', '*') }, { ec: { partition: 'x' } }, false],
      // StringNotEquals: none of the values.
      ['StringNotEquals, other value', { StringNotEquals: ec('partition', 'billing') }, { ec: { partition: 'orders' } }, true],
      ['StringNotEquals, equal', { StringNotEquals: ec('partition', 'billing') }, { ec: { partition: 'billing' } }, false],
      ['StringNotEquals, one of a list', { StringNotEquals: ec('partition', ['a', 'b']) }, { ec: { partition: 'b' } }, false],
      ['StringNotEquals, none of a list', { StringNotEquals: ec('partition', ['a', 'b']) }, { ec: { partition: 'c' } }, true],
      // StringEqualsIgnoreCase.
      ['StringEqualsIgnoreCase, other case', { StringEqualsIgnoreCase: ec('partition', 'Orders-1') }, { ec: { partition: 'oRDERS-1' } }, true],
      ['StringEqualsIgnoreCase, other value', { StringEqualsIgnoreCase: ec('partition', 'Orders-1') }, { ec: { partition: 'orders-2' } }, false],
      // StringLike: * and ?, anchored, case-sensitive, other characters literal.
      ['StringLike "*"', { StringLike: ec('partition', 'orders-*') }, { ec: { partition: 'orders-17' } }, true],
      ['StringLike "*" matches none', { StringLike: ec('partition', 'orders-*') }, { ec: { partition: 'orders-' } }, true],
      ['StringLike, other prefix', { StringLike: ec('partition', 'orders-*') }, { ec: { partition: 'billing-1' } }, false],
      ['StringLike, anchored', { StringLike: ec('partition', 'orders-*') }, { ec: { partition: 'x-orders-1' } }, false],
      ['StringLike, case-sensitive', { StringLike: ec('partition', 'orders-*') }, { ec: { partition: 'ORDERS-1' } }, false],
      ['StringLike "?"', { StringLike: ec('partition', 'orders-?') }, { ec: { partition: 'orders-1' } }, true],
      ['StringLike "?" is one character', { StringLike: ec('partition', 'orders-?') }, { ec: { partition: 'orders-12' } }, false],
      ['StringLike "?" is one code point', { StringLike: ec('partition', 'p-?') }, { ec: { partition: 'p-😀' } }, true],
      ['StringLike, "." is literal', { StringLike: ec('partition', 'a.c') }, { ec: { partition: 'abc' } }, false],
      ['StringLike, one of a list', { StringLike: ec('partition', ['billing-*', 'orders-*']) }, { ec: { partition: 'orders-1' } }, true],
      // StringNotLike.
      ['StringNotLike, no match', { StringNotLike: ec('partition', 'test-*') }, { ec: { partition: 'orders-1' } }, true],
      ['StringNotLike, a match', { StringNotLike: ec('partition', 'test-*') }, { ec: { partition: 'test-1' } }, false],
      ['StringNotLike, a match in a list', { StringNotLike: ec('partition', ['x', 'test-*']) }, { ec: { partition: 'test-1' } }, false],
      // IpAddress / NotIpAddress: IPv4, IPv6, CIDR, single addresses, mapped IPv4.
      ['IpAddress, in an IPv4 range', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '10.20.30.40' }, true],
      ['IpAddress, outside an IPv4 range', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '11.0.0.1' }, false],
      ['IpAddress, a single address', { IpAddress: { 'acs:SourceIp': '203.0.113.7' } }, { sourceIp: '203.0.113.7' }, true],
      ['IpAddress, another single address', { IpAddress: { 'acs:SourceIp': '203.0.113.7' } }, { sourceIp: '203.0.113.8' }, false],
      ['IpAddress, /32', { IpAddress: { 'acs:SourceIp': '203.0.113.7/32' } }, { sourceIp: '203.0.113.7' }, true],
      ['IpAddress, /0 is everything', { IpAddress: { 'acs:SourceIp': '0.0.0.0/0' } }, { sourceIp: '198.51.100.1' }, true],
      ['IpAddress, in an IPv6 range', { IpAddress: { 'acs:SourceIp': '2001:db8::/32' } }, { sourceIp: '2001:db8:1::5' }, true],
      ['IpAddress, outside an IPv6 range', { IpAddress: { 'acs:SourceIp': '2001:db8::/32' } }, { sourceIp: '2001:db9::5' }, false],
      ['IpAddress, IPv6 in upper case', { IpAddress: { 'acs:SourceIp': '2001:DB8::/32' } }, { sourceIp: '2001:db8::1' }, true],
      ['IpAddress, ::1', { IpAddress: { 'acs:SourceIp': '::1' } }, { sourceIp: '::1' }, true],
      ['IpAddress, mapped IPv4 source in an IPv4 range', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '::ffff:10.1.2.3' }, true],
      ['IpAddress, mapped IPv4 source outside an IPv4 range', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '::ffff:11.1.2.3' }, false],
      ['IpAddress, IPv4 source in a mapped range', { IpAddress: { 'acs:SourceIp': '::ffff:10.0.0.0/104' } }, { sourceIp: '10.9.9.9' }, true],
      ['IpAddress, IPv4 range vs IPv6 source', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '2001:db8::1' }, false],
      ['IpAddress, one of a list', { IpAddress: { 'acs:SourceIp': ['192.168.0.0/16', '2001:db8::/32'] } }, { sourceIp: '2001:db8::1' }, true],
      ['NotIpAddress, outside', { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '203.0.113.7' }, true],
      ['NotIpAddress, inside', { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '10.0.0.1' }, false],
      ['NotIpAddress, inside one of a list', { NotIpAddress: { 'acs:SourceIp': ['192.168.0.0/16', '10.0.0.0/8'] } }, { sourceIp: '10.0.0.1' }, false],
      ['NotIpAddress, mapped IPv4 inside', { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, { sourceIp: '::ffff:10.0.0.1' }, false],
      // DateLessThan / DateGreaterThan on acs:CurrentTime (NOW = 2025-06-01T12:00:00Z).
      ['DateLessThan, future', { DateLessThan: { 'acs:CurrentTime': '2030-01-01T00:00:00Z' } }, {}, true],
      ['DateLessThan, past', { DateLessThan: { 'acs:CurrentTime': '2020-01-01T00:00:00Z' } }, {}, false],
      ['DateLessThan, exactly now', { DateLessThan: { 'acs:CurrentTime': '2025-06-01T12:00:00Z' } }, {}, false],
      ['DateLessThan, an offset', { DateLessThan: { 'acs:CurrentTime': '2025-06-01T20:00:01+08:00' } }, {}, true],
      ['DateLessThan, a date only (midnight UTC)', { DateLessThan: { 'acs:CurrentTime': '2025-06-02' } }, {}, true],
      ['DateLessThan, any of a list', { DateLessThan: { 'acs:CurrentTime': ['2020-01-01T00:00:00Z', '2030-01-01T00:00:00Z'] } }, {}, true],
      ['DateGreaterThan, past', { DateGreaterThan: { 'acs:CurrentTime': '2020-01-01T00:00:00.500Z' } }, {}, true],
      ['DateGreaterThan, future', { DateGreaterThan: { 'acs:CurrentTime': '2030-01-01T00:00:00Z' } }, {}, false],
      ['DateGreaterThan, any of a list', { DateGreaterThan: { 'acs:CurrentTime': ['2030-01-01', '2020-01-01'] } }, {}, true],
      // Bool on acs:SecureTransport.
      ['Bool true, over TLS', { Bool: { 'acs:SecureTransport': 'true' } }, { secureTransport: true }, true],
      ['Bool true, plain', { Bool: { 'acs:SecureTransport': 'true' } }, { secureTransport: false }, false],
      ['Bool false, plain', { Bool: { 'acs:SecureTransport': 'false' } }, { secureTransport: false }, true],
      ['Bool false, over TLS', { Bool: { 'acs:SecureTransport': 'false' } }, { secureTransport: true }, false],
    ])('when %s, the condition holds: %s', (_what, condition, ctx, expected) => {
      expect(allows(condition, context(ctx))).toBe(expected);
    });

    it('when a statement has several operators and keys, all must hold', () => {
      const condition: Condition = {
        StringEquals: { 'kms:EncryptionContext:partition': 'orders', 'kms:EncryptionContext:tenant': 't1' },
        IpAddress: { 'acs:SourceIp': '10.0.0.0/8' },
      };
      expect(allows(condition, context({ ec: { partition: 'orders', tenant: 't1' }, sourceIp: '10.0.0.1' }))).toBe(true);
      expect(allows(condition, context({ ec: { partition: 'orders', tenant: 't2' }, sourceIp: '10.0.0.1' }))).toBe(false);
      expect(allows(condition, context({ ec: { partition: 'orders', tenant: 't1' }, sourceIp: '11.0.0.1' }))).toBe(false);
      expect(allows(condition, context({ ec: { partition: 'orders' }, sourceIp: '10.0.0.1' }))).toBe(false);
    });

    it('when condition key names differ in case, they still name the key; the EncryptionContext key itself is exact', () => {
      expect(allows({ IpAddress: { 'ACS:SOURCEIP': '10.0.0.0/8' } }, context({ sourceIp: '10.0.0.1' }))).toBe(true);
      expect(allows({ StringEquals: { 'KMS:ENCRYPTIONCONTEXT:partition': 'a' } }, context({ ec: { partition: 'a' } }))).toBe(true);
      expect(allows({ StringEquals: { 'kms:EncryptionContext:Partition': 'a' } }, context({ ec: { partition: 'a' } }))).toBe(false);
      // A context key with ":" in it is taken whole.
      expect(allows({ StringEquals: { 'kms:EncryptionContext:a:b': 'x' } }, context({ ec: { 'a:b': 'x' } }))).toBe(true);
    });
  });

  describe('a key the request does not have', () => {
    const absent: [string, Condition, boolean][] = [
      ['StringEquals', { StringEquals: { 'kms:EncryptionContext:partition': 'orders' } }, false],
      ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'kms:EncryptionContext:partition': 'orders' } }, false],
      ['StringLike "*"', { StringLike: { 'kms:EncryptionContext:partition': '*' } }, false],
      ['StringNotEquals', { StringNotEquals: { 'kms:EncryptionContext:partition': 'orders' } }, true],
      ['StringNotLike', { StringNotLike: { 'kms:EncryptionContext:partition': 'orders-*' } }, true],
      ['IpAddress 0.0.0.0/0', { IpAddress: { 'acs:SourceIp': '0.0.0.0/0' } }, false],
      ['NotIpAddress', { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, true],
    ];

    it.each(absent)('when the request lacks the key, %s holds: %s', (_what, condition, expected) => {
      expect(allows(condition, context({ ec: { other: 'orders' }, sourceIp: undefined }))).toBe(expected);
    });

    it.each(absent)('when no context is given at all, %s holds: %s', (_what, condition, expected) => {
      expect(allows(condition, undefined)).toBe(expected);
    });

    it('when no context is given, the time and transport keys are missing too (positive operators false)', () => {
      expect(allows({ DateLessThan: { 'acs:CurrentTime': '2999-01-01' } }, undefined)).toBe(false);
      expect(allows({ DateGreaterThan: { 'acs:CurrentTime': '1999-01-01' } }, undefined)).toBe(false);
      expect(allows({ Bool: { 'acs:SecureTransport': 'false' } }, undefined)).toBe(false);
    });

    it('when the source address is not an IP address, it counts as missing', () => {
      expect(allows({ IpAddress: { 'acs:SourceIp': '0.0.0.0/0' } }, context({ sourceIp: 'unknown' }))).toBe(false);
      expect(allows({ NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }, context({ sourceIp: 'unknown' }))).toBe(true);
    });

    it('when a Deny uses a negated operator, a request without the key is denied (no IfExists)', () => {
      const p = compiled({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, denyIf({ StringNotEquals: { 'kms:EncryptionContext:partition': 'orders' } }));
      expect(p.isAllowed('kms:Decrypt', ARN, context({ ec: { partition: 'orders' } }))).toBe(true);
      expect(p.isAllowed('kms:Decrypt', ARN, context({ ec: { partition: 'billing' } }))).toBe(false);
      expect(p.isAllowed('kms:Decrypt', ARN, context({ ec: {} }))).toBe(false);
      expect(p.isAllowed('kms:Decrypt', ARN)).toBe(false);
      // The Deny is for kms:Decrypt only.
      expect(p.isAllowed('kms:Encrypt', ARN, context({ ec: {} }))).toBe(true);
    });

    it('when a Deny has a positive condition that does not hold, the Allow stands', () => {
      const p = compiled({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, denyIf({ NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }));
      expect(p.isAllowed('kms:Decrypt', ARN, context({ sourceIp: '10.1.1.1' }))).toBe(true);
      expect(p.isAllowed('kms:Decrypt', ARN, context({ sourceIp: '192.0.2.1' }))).toBe(false);
    });
  });

  describe('refused conditions', () => {
    it.each<[string, unknown, RegExp]>([
      ['an unknown operator', { StringEqualsIfExists: { 'kms:EncryptionContext:a': 'x' } }, /condition operator "StringEqualsIfExists" is not supported/],
      ['an operator in the wrong case', { stringequals: { 'kms:EncryptionContext:a': 'x' } }, /condition operator "stringequals" is not supported/],
      ['an operator named __proto__', JSON.parse('{"__proto__": {"kms:EncryptionContext:a": "x"}}'), /condition operator "__proto__" is not supported/],
      ['an unknown key', { StringEquals: { 'acs:UserAgent': 'x' } }, /condition key "acs:UserAgent" is not supported/],
      ['an AWS key', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, /condition key "aws:SourceIp" is not supported/],
      ['an EncryptionContext key with no name', { StringEquals: { 'kms:EncryptionContext:': 'x' } }, /condition key "kms:EncryptionContext:" is not supported/],
      [
        'a key of another kind (IpAddress on a context key)',
        { IpAddress: { 'kms:EncryptionContext:a': '10.0.0.0/8' } },
        /IpAddress does not apply to kms:EncryptionContext:a/,
      ],
      ['a key of another kind (StringEquals on acs:SourceIp)', { StringEquals: { 'acs:SourceIp': '10.0.0.1' } }, /StringEquals does not apply to acs:SourceIp/],
      ['a key of another kind (Bool on acs:CurrentTime)', { Bool: { 'acs:CurrentTime': 'true' } }, /Bool does not apply to acs:CurrentTime/],
      ['a malformed IPv4 address', { IpAddress: { 'acs:SourceIp': '10.0.0.300' } }, /"10.0.0.300" is not an IPv4 or IPv6 address or CIDR range/],
      ['an IPv4 prefix over 32', { IpAddress: { 'acs:SourceIp': '10.0.0.0/33' } }, /is not an IPv4 or IPv6 address/],
      ['an IPv6 prefix over 128', { NotIpAddress: { 'acs:SourceIp': '2001:db8::/129' } }, /is not an IPv4 or IPv6 address/],
      ['an empty prefix', { IpAddress: { 'acs:SourceIp': '10.0.0.0/' } }, /is not an IPv4 or IPv6 address/],
      ['a prefix that is not a number', { IpAddress: { 'acs:SourceIp': '10.0.0.0/8a' } }, /is not an IPv4 or IPv6 address/],
      ['a host name', { IpAddress: { 'acs:SourceIp': 'example.com' } }, /is not an IPv4 or IPv6 address/],
      ['a zone index', { IpAddress: { 'acs:SourceIp': 'fe80::1%eth0' } }, /is not an IPv4 or IPv6 address/],
      ['a bad address in a list', { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', 'nope'] } }, /acs:SourceIp\[1\]: "nope"/],
      ['a date that is not ISO-8601', { DateLessThan: { 'acs:CurrentTime': 'June 1, 2030' } }, /is not an ISO-8601 date/],
      ['a date-time without a zone', { DateLessThan: { 'acs:CurrentTime': '2030-01-01T00:00:00' } }, /is not an ISO-8601 date/],
      ['an impossible date', { DateGreaterThan: { 'acs:CurrentTime': '2030-02-30' } }, /is not an ISO-8601 date/],
      ['an impossible time', { DateGreaterThan: { 'acs:CurrentTime': '2030-01-01T24:00:00Z' } }, /is not an ISO-8601 date/],
      ['epoch seconds', { DateGreaterThan: { 'acs:CurrentTime': '1893456000' } }, /is not an ISO-8601 date/],
      ['a Bool that is not "true" or "false"', { Bool: { 'acs:SecureTransport': 'yes' } }, /"yes" is not "true" or "false"/],
      ['a Bool in upper case', { Bool: { 'acs:SecureTransport': 'TRUE' } }, /is not "true" or "false"/],
      ['a JSON boolean', { Bool: { 'acs:SecureTransport': true } }, /must be a string or a non-empty list of strings/],
      ['a number', { StringEquals: { 'kms:EncryptionContext:a': 5 } }, /must be a string or a non-empty list of strings/],
      ['an empty list', { StringEquals: { 'kms:EncryptionContext:a': [] } }, /must be a string or a non-empty list of strings/],
      ['an empty operator', { StringEquals: {} }, /StringEquals must be an object of at least one/],
      ['an empty Condition', {}, /Condition must name at least one operator/],
      ['a Condition that is a string', 'IpAddress', /Condition must be an object/],
      ['a Condition that is a list', [{ IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } }], /Condition must be an object/],
      ['a Condition that is null', null, /Condition must be an object/],
    ])('when a statement has %s, the policy is refused with a clear message', (_what, condition, message) => {
      expect(policyDocumentSchema.safeParse(document(allowIf(condition))).success).toBe(false);
      expect(() => parsePolicyDocument(document(allowIf(condition)))).toThrow(message);
    });

    it('when every operator and key is well-formed, the policy is accepted as written', () => {
      const condition = {
        StringEquals: { 'kms:EncryptionContext:a': 'x' },
        StringNotEquals: { 'kms:EncryptionContext:a': ['y', 'z'] },
        StringEqualsIgnoreCase: { 'kms:EncryptionContext:a': 'X' },
        StringLike: { 'kms:EncryptionContext:a': 'x*' },
        StringNotLike: { 'kms:EncryptionContext:a': 'y?' },
        IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '2001:db8::/32', '::1', '192.0.2.1'] },
        NotIpAddress: { 'acs:SourceIp': '10.9.0.0/16' },
        DateLessThan: { 'acs:CurrentTime': '2030-01-01T00:00:00+08:00' },
        DateGreaterThan: { 'acs:CurrentTime': '2020-01-01' },
        Bool: { 'acs:SecureTransport': 'false' },
      };
      expect(parsePolicyDocument(document(allowIf(condition))).Statement[0]!.Condition).toEqual(condition);
    });
  });
});
