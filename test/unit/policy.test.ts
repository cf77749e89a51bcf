import { describe, expect, it } from 'vitest';
import { ADMIN_POLICY, compilePolicy, type PolicyDocument, policyDocumentSchema } from '../../lib/policy/policy.js';
import { CONSUMER, KEY_ID, keyArnOf, OTHER_KEY_ID, PROVIDER, TEST_SEED } from '../helpers/service.js';

const KEY_ARN = 'acs:kms:cn-hangzhou:1234567890123456:key/11111111-2222-4333-8444-555555555555';
const OTHER_ARN = 'acs:kms:cn-hangzhou:1234567890123456:key/key-hzz62f1cb66fa42qo0001';

/** Every Action of the reference (API 2016-01-20), data-key and key-management alike. */
const ALL_ACTIONS = [
  'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt', 'ReEncrypt',
  'CreateKey', 'DescribeKey', 'ListKeys', 'CreateKeyVersion', 'ListKeyVersions', 'EnableKey', 'DisableKey',
  'ScheduleKeyDeletion', 'CancelKeyDeletion', 'UpdateRotationPolicy', 'CreateAlias', 'UpdateAlias', 'DeleteAlias',
  'ListAliases', 'ListAliasesByKeyId',
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
      ['a Condition with an unknown operator', { Version: '1', Statement: [{ ...allow('kms:*'), Condition: { IpAddressIfExists: { 'acs:SourceIp': '10.0.0.0/8' } } }] }],
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
