import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADMIN_POLICY, compilePolicy, type PolicyDocument, policyDocumentSchema } from '../../lib/policy/policy.js';
import { wildcardOverPrefix, wildcardPattern } from '../../lib/policy/wildcard.js';
import { CONSUMER, KEY_ID, keyArnOf, OTHER_KEY_ID, PROVIDER, TEST_SEED } from '../helpers/service.js';

const KEY_ARN = 'acs:kms:cn-hangzhou:1234567890123456:key/11111111-2222-4333-8444-555555555555';
const OTHER_ARN = 'acs:kms:cn-hangzhou:1234567890123456:key/key-hzz62f1cb66fa42qo0001';

/** Every Action of the reference (API 2016-01-20), data-key and key-management alike. */
const ALL_ACTIONS = [
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'CreateKey',
  'DescribeKey',
  'ListKeys',
  'CreateKeyVersion',
  'ListKeyVersions',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'UpdateRotationPolicy',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'ListAliases',
  'ListAliasesByKeyId',
].map((a) => `kms:${a}`);

type Statement = PolicyDocument['Statement'][number];
const policy = (...statements: Statement[]) => compilePolicy(policyDocumentSchema.parse({ Version: '1', Statement: statements }));
const allow = (Action: string | string[], Resource: string | string[] = '*'): Statement => ({ Effect: 'Allow', Action, Resource });
const deny = (Action: string | string[], Resource: string | string[] = '*'): Statement => ({ Effect: 'Deny', Action, Resource });

describe('Module: policy', () => {
  describe('policyDocumentSchema', () => {
    it('when Action and Resource are strings, it accepts the document', () => {
      expect(policyDocumentSchema.safeParse({ Version: '1', Statement: [allow('kms:Decrypt', KEY_ARN)] }).success).toBe(true);
    });

    it('when Action and Resource are lists, it accepts the document', () => {
      expect(policyDocumentSchema.safeParse({ Version: '1', Statement: [allow(['kms:Decrypt', 'kms:Encrypt'], [KEY_ARN, OTHER_ARN])] }).success).toBe(true);
    });

    it.each([
      [
        'a Condition with an unknown operator',
        { Version: '1', Statement: [{ ...allow('kms:*'), Condition: { IpAddressIfExists: { 'acs:SourceIp': '10.0.0.0/8' } } }] },
      ],
      ['an action this service does not have', { Version: '1', Statement: [allow('kms:Decrpyt')] }],
      ['an unknown statement field', { Version: '1', Statement: [{ ...allow('kms:*'), NotAction: 'kms:Decrypt' }] }],
      ['an unknown top-level field', { Version: '1', Statement: [allow('kms:*')], Id: 'x' }],
      ['Effect "allow" (lower case)', { Version: '1', Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] }],
      ['Effect "Maybe"', { Version: '1', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }],
      ['Version "2"', { Version: '2', Statement: [allow('kms:*')] }],
      ['Version 1 as a number', { Version: 1, Statement: [allow('kms:*')] }],
      ['no Version', { Statement: [allow('kms:*')] }],
      ['an empty Statement list', { Version: '1', Statement: [] }],
      ['an empty Action list', { Version: '1', Statement: [allow([])] }],
      ['an empty Action string', { Version: '1', Statement: [allow('')] }],
      ['a missing Resource', { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*' }] }],
      ['a number as Action', { Version: '1', Statement: [{ Effect: 'Allow', Action: 7, Resource: '*' }] }],
    ])('when the document has %s, it refuses it', (_what, document) => {
      expect(policyDocumentSchema.safeParse(document).success).toBe(false);
    });
  });

  describe('function compilePolicy', () => {
    it('when no statement matches, it denies (default deny)', () => {
      const p = policy(allow('kms:Decrypt', KEY_ARN));
      expect(p.isAllowed('kms:Encrypt', KEY_ARN)).toBe(false);
      expect(p.isAllowed('kms:Decrypt', OTHER_ARN)).toBe(false);
    });

    it('when an Allow statement matches action and resource, it allows', () => {
      expect(policy(allow('kms:Decrypt', KEY_ARN)).isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
    });

    it('when a list has several actions or resources, any of them matches', () => {
      const p = policy(allow(['kms:Encrypt', 'kms:Decrypt'], [OTHER_ARN, KEY_ARN]));
      expect(p.isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(p.isAllowed('kms:Encrypt', OTHER_ARN)).toBe(true);
      expect(p.isAllowed('kms:ReEncrypt', KEY_ARN)).toBe(false);
    });

    it('when an explicit Deny matches, it wins over an Allow whatever their order', () => {
      for (const p of [policy(allow('kms:*'), deny('kms:Decrypt', KEY_ARN)), policy(deny('kms:Decrypt', KEY_ARN), allow('kms:*'))]) {
        expect(p.isAllowed('kms:Decrypt', KEY_ARN)).toBe(false);
        expect(p.isAllowed('kms:Decrypt', OTHER_ARN)).toBe(true);
        expect(p.isAllowed('kms:Encrypt', KEY_ARN)).toBe(true);
      }
    });

    it('when only a Deny exists, it denies everything (a Deny never allows)', () => {
      expect(policy(deny('kms:Decrypt')).isAllowed('kms:Encrypt', KEY_ARN)).toBe(false);
    });

    it('when an action pattern has "*", it matches any run of characters including none', () => {
      const p = policy(allow('kms:GenerateDataKey*'));
      expect(p.isAllowed('kms:GenerateDataKey', KEY_ARN)).toBe(true);
      expect(p.isAllowed('kms:GenerateDataKeyWithoutPlaintext', KEY_ARN)).toBe(true);
      expect(p.isAllowed('kms:Decrypt', KEY_ARN)).toBe(false);
      expect(policy(allow('*')).isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
    });

    it('when an action pattern has "?", it matches exactly one character', () => {
      const p = policy(allow('kms:?ecrypt'));
      expect(p.isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(p.isAllowed('kms:Encrypt', KEY_ARN)).toBe(false);
      expect(p.isAllowed('kms:ReEncrypt', KEY_ARN)).toBe(false);
      expect(p.isAllowed('kms:ecrypt', KEY_ARN)).toBe(false);
    });

    it('when a resource pattern has "*" or "?", they match as wildcards', () => {
      const star = policy(allow('kms:Decrypt', 'acs:kms:*:*:key/*'));
      expect(star.isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(star.isAllowed('kms:Decrypt', 'acs:kms:cn-hangzhou:1234567890123456:alias/test')).toBe(false);
      const question = policy(allow('kms:Decrypt', 'acs:kms:cn-hangzhou:1234567890123456:key/1111111?-2222-4333-8444-555555555555'));
      expect(question.isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(question.isAllowed('kms:Decrypt', KEY_ARN.replace('11111111-', '1111111-'))).toBe(false);
    });

    it('when comparing actions, it ignores case (kms:decrypt, KMS:DECRYPT)', () => {
      expect(policy(allow('kms:decrypt')).isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(policy(allow('KMS:DECRYPT')).isAllowed('kms:Decrypt', KEY_ARN)).toBe(true);
      expect(policy(allow('kms:*'), deny('kms:DECRYPT')).isAllowed('kms:Decrypt', KEY_ARN)).toBe(false);
    });

    it('when comparing resources, it respects case', () => {
      const p = policy(allow('kms:Decrypt', 'acs:kms:cn-hangzhou:1:key/key-ABC'));
      expect(p.isAllowed('kms:Decrypt', 'acs:kms:cn-hangzhou:1:key/key-ABC')).toBe(true);
      expect(p.isAllowed('kms:Decrypt', 'acs:kms:cn-hangzhou:1:key/key-abc')).toBe(false);
    });

    it.each([
      ['key/a.b', 'key/a.b', 'key/axb'],
      ['key/a+b', 'key/a+b', 'key/aab'],
      ['key/[ab]', 'key/[ab]', 'key/a'],
      ['key/(a|b)', 'key/(a|b)', 'key/a'],
      ['key/a{2}', 'key/a{2}', 'key/aa'],
      ['key/^a$', 'key/^a$', 'key/a'],
      ['key/a\\d', 'key/a\\d', 'key/a1'],
      ['key/(', 'key/(', 'key/'],
    ])('when a resource pattern "%s" contains regex metacharacters, they are literal', (pattern, literal, regexMatch) => {
      const p = policy(allow('kms:Decrypt', `acs:kms:cn-hangzhou:1:${pattern}`));
      expect(p.isAllowed('kms:Decrypt', `acs:kms:cn-hangzhou:1:${literal}`)).toBe(true);
      expect(p.isAllowed('kms:Decrypt', `acs:kms:cn-hangzhou:1:${regexMatch}`)).toBe(false);
    });

    it('when an action pattern contains ".", it is literal too (so "kms.Decrypt" names no action and is refused)', () => {
      expect(policyDocumentSchema.safeParse({ Version: '1', Statement: [allow('kms.Decrypt')] }).success).toBe(false);
      expect(policyDocumentSchema.safeParse({ Version: '1', Statement: [allow('kms?Decrypt')] }).success).toBe(true);
    });

    it('when a pattern has no wildcard, it must match the whole value (anchored)', () => {
      const p = policy(allow('kms:Decrypt', KEY_ARN));
      expect(p.isAllowed('kms:DecryptX', KEY_ARN)).toBe(false);
      expect(p.isAllowed('xkms:Decrypt', KEY_ARN)).toBe(false);
      expect(p.isAllowed('kms:Decrypt', `${KEY_ARN}0`)).toBe(false);
    });

    it('when the admin policy is compiled, it allows every action on every resource', () => {
      const p = compilePolicy(ADMIN_POLICY);
      for (const action of ALL_ACTIONS) expect(p.isAllowed(action, KEY_ARN)).toBe(true);
    });
  });

  describe("the seed's trust split", () => {
    const seeded = (accessKeyId: string) => {
      const entry = TEST_SEED.accessKeys!.find((k) => k.accessKeyId === accessKeyId)!;
      return compilePolicy(policyDocumentSchema.parse(entry.policy));
    };
    const allowedActions = (accessKeyId: string, resource: string) => ALL_ACTIONS.filter((a) => seeded(accessKeyId).isAllowed(a, resource));

    it('when the key provider asks, only kms:GenerateDataKeyWithoutPlaintext is allowed', () => {
      expect(allowedActions(PROVIDER.accessKeyId, keyArnOf(KEY_ID))).toEqual(['kms:GenerateDataKeyWithoutPlaintext']);
      expect(allowedActions(PROVIDER.accessKeyId, keyArnOf(OTHER_KEY_ID))).toEqual(['kms:GenerateDataKeyWithoutPlaintext']);
    });

    it('when the producer/consumer asks, only kms:Decrypt is allowed', () => {
      expect(allowedActions(CONSUMER.accessKeyId, keyArnOf(KEY_ID))).toEqual(['kms:Decrypt']);
      expect(allowedActions(CONSUMER.accessKeyId, keyArnOf(OTHER_KEY_ID))).toEqual(['kms:Decrypt']);
    });

    it('when the consumer names something that is not a key ARN, nothing is allowed', () => {
      expect(allowedActions(CONSUMER.accessKeyId, 'acs:kms:cn-hangzhou:1234567890123456:alias/test')).toEqual([]);
    });
  });
});

describe('Module: policy — what a policy could allow before anything is read', () => {
  const KEYS = 'acs:kms:cn-hangzhou:1234567890123456:key/';
  const KEY_CHARS = /^[A-Za-z0-9-]$/;
  const anyKey = { names: [KEYS], suffix: KEY_CHARS };
  const AWS_KEYS = 'arn:aws:kms:us-east-1:1234567890123456:key/';
  const conditional = (statement: Statement, Condition: NonNullable<Statement['Condition']>): Statement => ({ ...statement, Condition });
  const from = (sourceIp: string) => ({ encryptionContext: new Map<string, string>(), sourceIp, secureTransport: false, now: Date.now() });

  describe('function wildcardOverPrefix', () => {
    it.each([
      ['*', KEYS, true, true],
      ['acs:kms:*:*:key/*', KEYS, true, true],
      ['acs:kms:cn-hangzhou:*', KEYS, true, true],
      [KEY_ARN, KEYS, true, false],
      ['acs:kms:*:*:key/1111*', KEYS, true, false],
      ['acs:kms:*:*:key/????????-*', KEYS, true, false],
      ['acs:kms:eu-central-1:*:key/*', KEYS, false, false],
      ['acs:kms:*:*:alias/*', KEYS, false, false],
      ['acs:kms:*:*:key', KEYS, false, false],
      ['acs:kms:*:*:key/*:x', KEYS, false, false],
      ['arn:aws:kms:*:*:key/*', KEYS, false, false],
    ])('pattern %s over %s followed by key-id characters: some %s, every %s', (pattern, prefix, some, every) => {
      expect(wildcardOverPrefix(pattern, prefix, KEY_CHARS)).toEqual({ some, every });
    });

    it('without a suffix class, any character may follow (an alias ARN pattern reaches "key/" names through a "*")', () => {
      expect(wildcardOverPrefix('acs:kms:*:*:alias/*', KEYS).some).toBe(true);
      expect(wildcardOverPrefix('acs:kms:*:*:alias/*', KEYS, KEY_CHARS).some).toBe(false);
    });

    it('is sound: "some" whenever a name of the scope matches, "every" only when all of them do (random patterns and names)', () => {
      const text = (chars: string[], max: number) => fc.array(fc.constantFrom(...chars), { maxLength: max }).map((a) => a.join(''));
      fc.assert(
        fc.property(
          text(['a', 'b', ':', '*', '?'], 8),
          text(['a', 'b', ':'], 5),
          fc.array(text(['a', 'b'], 5), { minLength: 1, maxLength: 8 }),
          (pattern, prefix, suffixes) => {
            const suffix = /^[ab]$/;
            const reach = wildcardOverPrefix(pattern, prefix, suffix);
            const matcher = wildcardPattern(pattern);
            for (const s of suffixes) {
              if (matcher.test(prefix + s)) expect(reach.some).toBe(true);
              if (reach.every) expect(matcher.test(prefix + s)).toBe(true);
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('method mayAllow', () => {
    it('when an Allow names the action on a resource of the scope, it may allow; an Allow elsewhere or for another action may not', () => {
      expect(policy(allow('kms:DeleteAlias')).mayAllow('kms:DeleteAlias', anyKey)).toBe(true);
      expect(policy(allow('kms:DeleteAlias', KEY_ARN)).mayAllow('kms:DeleteAlias', anyKey)).toBe(true);
      expect(policy(allow('kms:Decrypt')).mayAllow('kms:DeleteAlias', anyKey)).toBe(false);
      expect(policy(allow('kms:*', 'acs:kms:*:*:alias/*')).mayAllow('kms:DeleteAlias', anyKey)).toBe(false);
      expect(policy(allow('kms:*', 'acs:kms:eu-central-1:*:key/*')).mayAllow('kms:DeleteAlias', anyKey)).toBe(false);
    });

    it('when a Deny covers every resource of the scope it may not allow; a Deny on some of them leaves the others', () => {
      expect(policy(allow('kms:*'), deny('kms:DeleteAlias')).mayAllow('kms:DeleteAlias', anyKey)).toBe(false);
      expect(policy(allow('kms:*'), deny('kms:*', 'acs:kms:*:*:key/*')).mayAllow('kms:UpdateAlias', anyKey)).toBe(false);
      expect(policy(allow('kms:*'), deny('kms:DeleteAlias', KEY_ARN)).mayAllow('kms:DeleteAlias', anyKey)).toBe(true);
      expect(policy(allow('kms:*'), deny('kms:DeleteAlias', KEY_ARN)).mayAllow('kms:DeleteAlias', { names: [KEY_ARN] })).toBe(false);
    });

    it('on exact names, it agrees with isAllowed when no condition reads tags', () => {
      const p = policy(allow('kms:Decrypt', KEY_ARN), deny('kms:Decrypt', OTHER_ARN));
      for (const name of [KEY_ARN, OTHER_ARN, 'acs:kms:cn-hangzhou:1234567890123456:key/x']) {
        expect(p.mayAllow('kms:Decrypt', { names: [name] })).toBe(p.isAllowed('kms:Decrypt', name));
      }
    });

    it('conditions known from the request are evaluated; those on tags may hold in an Allow and are not sure in a Deny', () => {
      const fromNet = conditional(allow('kms:*'), { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } });
      expect(policy(fromNet).mayAllow('kms:DeleteAlias', anyKey, from('10.1.2.3'))).toBe(true);
      expect(policy(fromNet).mayAllow('kms:DeleteAlias', anyKey, from('203.0.113.9'))).toBe(false);
      const tagged = conditional(allow('kms:DeleteAlias'), { StringEquals: { 'kms:tag/team': 'a' } });
      expect(policy(tagged).mayAllow('kms:DeleteAlias', anyKey, from('203.0.113.9'))).toBe(true);
      // Denies every key not tagged team=a: until the key is read, one tagged so may be allowed.
      const denyUntagged = conditional(deny('kms:*'), { StringNotEquals: { 'kms:tag/team': 'a' } });
      expect(policy(allow('kms:*'), denyUntagged).mayAllow('kms:DeleteAlias', anyKey, from('203.0.113.9'))).toBe(true);
      const denyFromNet = conditional(deny('kms:*'), { NotIpAddress: { 'acs:SourceIp': '10.0.0.0/8' } });
      expect(policy(allow('kms:*'), denyFromNet).mayAllow('kms:DeleteAlias', anyKey, from('203.0.113.9'))).toBe(false);
    });

    it('a resource named in its AWS form counts too', () => {
      const p = policy(allow('kms:DeleteAlias', 'arn:aws:kms:*:*:key/*'));
      expect(p.mayAllow('kms:DeleteAlias', anyKey)).toBe(false);
      expect(p.mayAllow('kms:DeleteAlias', { names: [KEYS, AWS_KEYS], suffix: KEY_CHARS })).toBe(true);
      expect(
        policy(allow('kms:*'), deny('kms:DeleteAlias', 'arn:aws:kms:*:*:key/*')).mayAllow('kms:DeleteAlias', { names: [KEYS, AWS_KEYS], suffix: KEY_CHARS }),
      ).toBe(false);
    });

    it('never says no where isAllowed could say yes (random policies, keys and tags)', () => {
      const keyIds = [KEY_ARN.slice(KEYS.length), OTHER_ARN.slice(KEYS.length), 'key-abc1234', '99999999-0000-4000-8000-000000000000'];
      const resources = fc.constantFrom(
        '*',
        'acs:kms:*:*:key/*',
        'acs:kms:*:*:alias/*',
        KEY_ARN,
        OTHER_ARN,
        'acs:kms:cn-hangzhou:*:key/key-*',
        'acs:kms:*:*:key/????????-*',
        'arn:aws:kms:*:*:key/*',
      );
      const statement = fc.record({
        Effect: fc.constantFrom('Allow' as const, 'Deny' as const),
        Action: fc.constantFrom('kms:*', 'kms:DeleteAlias', 'kms:Decrypt', 'kms:*Alias'),
        Resource: fc.array(resources, { minLength: 1, maxLength: 2 }),
        tag: fc.constantFrom(undefined, 'a', 'b'),
        tagOperator: fc.constantFrom('StringEquals', 'StringNotEquals'),
        net: fc.constantFrom(undefined, '10.0.0.0/8', '203.0.113.0/24'),
      });
      fc.assert(
        fc.property(
          fc.array(statement, { minLength: 1, maxLength: 4 }),
          fc.constantFrom('10.1.2.3', '203.0.113.9'),
          fc.constantFrom('a', 'b', undefined),
          (statements, sourceIp, team) => {
            const p = policy(
              ...statements.map(({ tag, tagOperator, net, ...s }) => {
                const condition = { ...(tag ? { [tagOperator]: { 'kms:tag/team': tag } } : {}), ...(net ? { IpAddress: { 'acs:SourceIp': net } } : {}) };
                return Object.keys(condition).length > 0 ? { ...s, Condition: condition } : s;
              }),
            );
            const context = { ...from(sourceIp), resourceTags: new Map(team ? [['team', team]] : []) };
            const scope = { names: [KEYS, AWS_KEYS], suffix: KEY_CHARS };
            const anyAllowed = keyIds.some((id) => p.isAllowed('kms:DeleteAlias', [KEYS + id, AWS_KEYS + id], context));
            if (anyAllowed) expect(p.mayAllow('kms:DeleteAlias', scope, from(sourceIp))).toBe(true);
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
