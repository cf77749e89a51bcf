import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, type ActionRoute, AWS_OPERATIONS, SECRETS_MANAGER_OPERATIONS } from '../../functions/actions.js';
import { GRANTS } from '../../infra/serverless/iam.js';
import { AWS_TARGETS, awsOperationFunctions, generatedFunctions, MAX_CONDITION_VALUES } from '../../infra/serverless/functions.js';
import type { ActionDefinition } from '../../lib/action.js';

/*
 * How serverless.yml routes AWS operations (X-Amz-Target: AWS KMS's `TrentService.*`, AWS Secrets
 * Manager's `secretsmanager.*`): each to the one function that serves every Action the body may
 * choose (ActionDefinition.alsoServes), else to the dispatcher.
 */

type GeneratedFunction = {
  handler: string;
  iamRoleStatements?: unknown;
  events?: Array<{ alb?: { priority: number; conditions: { header?: { name: string; values: string[] } } } }>;
};

const anchors = [...GRANTS].map((name) => `  ${name}: &${name} {}\n`).join('');
const functionsOf = (generated: string) =>
  (parse(`functions:\n${anchors}${generated}`, { merge: true }) as { functions: Record<string, GeneratedFunction> }).functions;

/** X-Amz-Target value → the function whose rule matches it. */
function awsRules(generated: string): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const [name, fn] of Object.entries(functionsOf(generated))) {
    for (const event of fn.events ?? []) {
      const header = event.alb?.conditions.header;
      if (header?.name !== 'x-amz-target') continue;
      for (const value of header.values) rules.set(value, [...(rules.get(value) ?? []), name]);
    }
  }
  return rules;
}

const route = (name: string) => ACTIONS.find((r) => r.action === name)!;
const withOperation = (r: ActionRoute, operation: Partial<ActionDefinition>): ActionRoute => ({ ...r, operation: { ...r.operation, ...operation } });

describe('serverless.yml: AWS operations routed by X-Amz-Target', () => {
  it('when two Actions serve an AWS operation by what its body holds, its rule goes to the function of the one that also serves the other', () => {
    const rules = awsRules(generatedFunctions());
    expect(rules.get('TrentService.Encrypt')).toEqual(['encrypt']);
    expect(rules.get('TrentService.Decrypt')).toEqual(['decrypt']);
    expect(rules.get('TrentService.ListAliases')).toEqual(['listAliases']);
    expect(AWS_OPERATIONS.get('Encrypt')).toEqual(['Encrypt', 'AsymmetricEncrypt']);
    expect(AWS_OPERATIONS.get('Decrypt')).toEqual(['Decrypt', 'AsymmetricDecrypt']);
  });

  it('when the table is generated, every AWS operation of both services has exactly one rule, to a function that serves each of its Actions with the same store access', () => {
    const rules = awsRules(generatedFunctions());
    const targets = [
      ...[...AWS_OPERATIONS.keys()].map((t) => `TrentService.${t}`),
      ...[...SECRETS_MANAGER_OPERATIONS.keys()].map((t) => `secretsmanager.${t}`),
    ];
    expect([...rules.keys()].sort()).toEqual(targets.sort());
    expect([...AWS_TARGETS.keys()].sort()).toEqual(targets.sort());
    for (const [target, serving] of AWS_TARGETS) {
      const functions = rules.get(target)!;
      expect(functions, target).toHaveLength(1);
      const owner = ACTIONS.find((r) => r.functionName === functions[0])!;
      const served = [owner.operation, ...(owner.operation.alsoServes ?? [])];
      for (const name of serving) expect(served.find((d) => d.name === name)?.store, `${target}: ${name}`).toBe(owner.operation.store);
    }
  });

  it('when an Action serves an operation of each service (TagResource, UntagResource), one rule lists both targets; the Secrets Manager operations go to the secrets Actions', () => {
    const rules = awsRules(generatedFunctions());
    for (const [action, fn] of [
      ['TagResource', 'tagResource'],
      ['UntagResource', 'untagResource'],
    ] as const) {
      expect(rules.get(`TrentService.${action}`)).toEqual([fn]);
      expect(rules.get(`secretsmanager.${action}`)).toEqual([fn]);
      const events = functionsOf(generatedFunctions())[fn]!.events!.filter((e) => e.alb?.conditions.header?.name === 'x-amz-target');
      expect(events.map((e) => e.alb!.conditions.header!.values)).toEqual([[`TrentService.${action}`, `secretsmanager.${action}`]]);
    }
    for (const [target, fn] of [
      ['GetSecretValue', 'getSecretValue'],
      ['BatchGetSecretValue', 'batchGetSecretValue'],
      ['DeleteSecret', 'deleteSecret'],
    ] as const)
      expect(rules.get(`secretsmanager.${target}`)).toEqual([fn]);
  });

  it('when a function would need more X-Amz-Target values than a listener rule holds (5 condition values, 2 of them the path and the method), generating refuses the table', () => {
    const many = new Map([...AWS_TARGETS, ...['A', 'B', 'C'].map((op) => [`secretsmanager.${op}`, ['TagResource']] as const)]);
    expect(MAX_CONDITION_VALUES).toBe(5);
    expect(() => generatedFunctions(ACTIONS, many)).toThrow(/TagResource: 5 X-Amz-Target values do not fit one listener rule/);
  });

  it('when no one function serves every Action of an operation, it has no rule (the dispatcher forwards it) and every other rule is unchanged', () => {
    const table = ACTIONS.map((r) => (r.action === 'Encrypt' ? withOperation(r, { alsoServes: undefined }) : r));
    const rules = awsRules(generatedFunctions(table));
    expect(rules.has('TrentService.Encrypt')).toBe(false);
    const all = awsRules(generatedFunctions());
    all.delete('TrentService.Encrypt');
    expect(rules).toEqual(all);
    expect(awsOperationFunctions(table).get('TrentService.Decrypt')).toBe('decrypt');
  });

  it('when the asymmetric sibling also names the symmetric Action, the operation still has one rule: the first function in table order', () => {
    const table = ACTIONS.map((r) => (r.action === 'AsymmetricEncrypt' ? withOperation(r, { alsoServes: [route('Encrypt').operation] }) : r));
    expect(awsRules(generatedFunctions(table)).get('TrentService.Encrypt')).toEqual(['encrypt']);
  });

  it.each([
    ['other store access', () => withOperation(route('AsymmetricEncrypt'), { store: 'writes-state' }), /store access is 'writes-state', not 'reads'/],
    ['no shared AWS operation', () => route('GenerateDataKey'), /share no AWS operation/],
    ['an Action outside the table', () => withOperation(route('AsymmetricEncrypt'), { name: 'Unlisted' }), /not in the table/],
  ])('when a function would also serve an Action with %s, generating refuses the table', (_name, other, message) => {
    const sibling = other();
    const table = ACTIONS.map((r) => {
      if (r.action === 'Encrypt') return withOperation(r, { alsoServes: [sibling.operation] });
      return r.action === sibling.action ? sibling : r;
    });
    expect(() => generatedFunctions(table)).toThrow(message);
  });
});
