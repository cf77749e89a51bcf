import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionPatternProblem, KMS_ACTIONS, SECRETS_MANAGER_ACTIONS } from '../../lib/policy/actions.js';
import { compilePolicy, type PolicyDocument } from '../../lib/policy/policy.js';

/* `secretsmanager:<Operation>` in a policy: AWS's spelling of the secrets Actions, never of a key Action. */

const SECRET = 'acs:kms:cn-hangzhou:1234567890123456:secret/db/password';
const SECRET_AWS = 'arn:aws:secretsmanager:us-east-1:1234567890123456:secret:db/password-AbCdEf';
const KEY = 'acs:kms:cn-hangzhou:1234567890123456:key/key-0001';

const policy = (Effect: 'Allow' | 'Deny', Action: string | string[], Resource: string | string[] = '*', extra: PolicyDocument['Statement'] = []) =>
  compilePolicy({ Version: '1', Statement: [{ Effect, Action, Resource }, ...extra] });

describe('secretsmanager: action names in policies', () => {
  it('secretsmanager:GetSecretValue allows kms:GetSecretValue on a secret, in either ARN form, and nothing else', () => {
    const p = policy('Allow', 'secretsmanager:GetSecretValue');
    expect(p.isAllowed('kms:GetSecretValue', [SECRET, SECRET_AWS])).toBe(true);
    expect(p.isAllowed('kms:GetSecretValue', '*')).toBe(true);
    for (const action of ['kms:PutSecretValue', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:TagResource'])
      expect(p.isAllowed(action, [SECRET]), action).toBe(false);
  });

  it('secretsmanager:* and patterns that reach AWS names (s*, secretsmanager*) allow every secrets Action and no key Action', () => {
    for (const pattern of ['secretsmanager:*', 'SecretsManager:*', 's*', 'secretsmanager*', 'secretsmanager:?etSecretValue']) {
      const p = policy('Allow', pattern);
      expect(p.isAllowed('kms:GetSecretValue', [SECRET]), pattern).toBe(true);
      for (const action of ['kms:Decrypt', 'kms:Encrypt', 'kms:CreateKey', 'kms:ListKeys'])
        expect(p.isAllowed(action, [KEY]), `${pattern} ${action}`).toBe(false);
    }
  });

  it('through AWS names, an Action that serves keys too (TagResource, UntagResource) is allowed on secrets only', () => {
    for (const pattern of ['secretsmanager:TagResource', 'secretsmanager:*']) {
      const p = policy('Allow', pattern);
      expect(p.isAllowed('kms:TagResource', [SECRET, SECRET_AWS]), pattern).toBe(true);
      expect(p.isAllowed('kms:TagResource', [KEY]), pattern).toBe(false);
      expect(p.isAllowed('kms:TagResource', '*'), pattern).toBe(false);
      expect(p.mayAllow('kms:TagResource', { names: [KEY] }), pattern).toBe(false);
    }
    // kms:TagResource itself still tags keys.
    expect(policy('Allow', 'kms:TagResource').isAllowed('kms:TagResource', [KEY])).toBe(true);
  });

  it('a Deny in either spelling wins over an Allow in the other', () => {
    const deny = (action: string) => ({ Effect: 'Deny' as const, Action: action, Resource: '*' });
    expect(policy('Allow', 'kms:GetSecretValue', '*', [deny('secretsmanager:GetSecretValue')]).isAllowed('kms:GetSecretValue', [SECRET])).toBe(false);
    expect(policy('Allow', 'secretsmanager:*', '*', [deny('kms:GetSecretValue')]).isAllowed('kms:GetSecretValue', [SECRET])).toBe(false);
    expect(policy('Allow', 'kms:*', '*', [deny('secretsmanager:*')]).isAllowed('kms:GetSecretValue', [SECRET])).toBe(false);
    expect(policy('Allow', 'kms:*', '*', [deny('secretsmanager:*')]).isAllowed('kms:Decrypt', [KEY])).toBe(true);
  });

  it('a secretsmanager: name that is no operation served is refused when the policy is written', () => {
    expect(actionPatternProblem('secretsmanager:NotAnOperation')).toMatch(/is not an action/);
    expect(actionPatternProblem('secretsmanager:RotateSecret')).toMatch(/is not an action/);
    expect(actionPatternProblem('secretsmanager:Get*')).toBeUndefined();
  });

  it('every pattern the validation accepts matches some Action: none is accepted that could never allow or deny', () => {
    const names = [...KMS_ACTIONS, ...Object.keys(SECRETS_MANAGER_ACTIONS)];
    const pattern = fc.oneof(
      fc.constantFrom(...names).chain((name) => fc.nat({ max: name.length }).map((cut) => `${name.slice(0, cut)}*`)),
      fc.constantFrom(...names),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(pattern, (p) => {
        if (actionPatternProblem(p) !== undefined) return;
        const compiled = policy('Allow', p);
        const reached = KMS_ACTIONS.some((action) => compiled.isAllowed(action, [SECRET]) || compiled.isAllowed(action, [KEY]));
        expect(reached, p).toBe(true);
      }),
    );
  });
});
