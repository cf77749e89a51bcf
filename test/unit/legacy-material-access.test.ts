import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// The functions of the AWS stack: every Action's.
import { ACTIONS_IN_AWS_STACK as ACTIONS, DISPATCHER, EVENT_TRIGGERED, SCHEDULED } from '../../functions/actions.js';
import { grantsOf } from '../../infra/serverless/iam.js';

/*
 * infra/serverless/legacy-material-access.cjs on the real serverless.yml (its functions' statements
 * and its operator role, as the framework hands them over once the roles per function exist): a
 * stage upgraded with `--param legacySecretsPrefix=…` may read and delete the old per-version
 * material secrets from exactly the functions whose store access needs it; a stage without it
 * gets nothing. test/e2e/serverless.test.ts packages such a stage for real.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const LegacyMaterialAccess = createRequire(import.meta.url)('../../infra/serverless/legacy-material-access.cjs');
type Statement = { Effect: string; Action: string[]; Resource: unknown };
type Config = {
  functions: Record<string, { iamRoleStatements?: Statement[]; role?: string }>;
  custom: { iam: Record<string, Statement> };
  resources: { Resources: Record<string, any> };
};

const logicalId = (name: string) => name[0]!.toUpperCase() + name.slice(1);
const LOGS = { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: '*' };

/** The framework's view of the real serverless.yml after serverless-iam-roles-per-function, with this environment. */
function frameworkWith(environment: Record<string, string>) {
  const config = parse(readFileSync(`${root}serverless.yml`, 'utf8'), { merge: true, maxAliasCount: -1 }) as Config;
  const compiled: Record<string, any> = {};
  const roleIds: Record<string, string> = {};
  for (const [name, fn] of Object.entries(config.functions)) {
    // A function that shares a role (role:, the Actions) names one of the resources; the others
    // get their own from serverless-iam-roles-per-function.
    const roleId = fn.role ?? `${logicalId(name)}IamRoleLambdaExecution`;
    roleIds[name] = roleId;
    compiled[`${logicalId(name)}LambdaFunction`] = { Properties: { Role: { 'Fn::GetAtt': [roleId, 'Arn'] } } };
    if (!fn.role)
      compiled[roleId] = {
        Properties: { Policies: [{ PolicyDocument: { Statement: [LOGS, ...(fn.iamRoleStatements ?? [])] } }] },
      };
  }
  const serverless = {
    classes: { Error },
    providers: { aws: { naming: { getLambdaLogicalId: (name: string) => `${logicalId(name)}LambdaFunction` } } },
    service: {
      provider: { environment, compiledCloudFormationTemplate: { Resources: compiled } },
      custom: config.custom,
      resources: config.resources,
      getAllFunctions: () => Object.keys(config.functions),
      getFunction: (name: string) => config.functions[name]!,
    },
  };
  const plugin = new LegacyMaterialAccess(serverless);
  const statementsOf = (name: string): Statement[] =>
    (compiled[roleIds[name]!] ?? config.resources.Resources[roleIds[name]!]).Properties.Policies[0].PolicyDocument.Statement;
  const operator = (): Statement[] => config.resources.Resources.OperatorRole.Properties.Policies[0].PolicyDocument.Statement;
  return { run: () => plugin.hooks['before:package:finalize'](), statementsOf, operator, snapshot: () => JSON.stringify({ compiled, r: config.resources }) };
}

const secrets = (prefix: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${prefix}key-versions/*`,
});
const legacyOf = (statements: Statement[]) =>
  statements.filter(
    (s) =>
      s.Action.some((a) => a === 'secretsmanager:GetSecretValue' || a === 'secretsmanager:DeleteSecret') &&
      s.Resource !== undefined &&
      JSON.stringify(s.Resource).includes('key-versions'),
  );

describe('legacy material access (legacySecretsPrefix)', () => {
  it.each<Record<string, string>>([{}, { KMS_SECRETS_PREFIX: '' }])(
    'grants nothing to a stage without the prefix (%o): no role may touch an old secret',
    (environment) => {
      const framework = frameworkWith(environment);
      const before = framework.snapshot();
      framework.run();
      expect(framework.snapshot()).toBe(before);
    },
  );

  it.each(['kms/prod/', 'acme/kms-staging/'])(
    'lets exactly the functions whose store access needs it read (every reader) and delete (material deleters) <prefix>key-versions/* (%s), and the operator both',
    (prefix) => {
      const framework = frameworkWith({ KMS_SECRETS_PREFIX: prefix });
      framework.run();
      const read = { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets(prefix) };
      const remove = { Effect: 'Allow', Action: ['secretsmanager:DeleteSecret'], Resource: secrets(prefix) };
      const expected = (grants: readonly string[]) => [
        ...(grants.includes('readRootKey') ? [read] : []),
        ...(grants.includes('deleteMaterial') ? [remove] : []),
      ];
      for (const route of ACTIONS)
        expect(legacyOf(framework.statementsOf(route.functionName)), route.functionName).toEqual(expected(grantsOf(route.operation.store, true)));
      for (const job of SCHEDULED) expect(legacyOf(framework.statementsOf(job.functionName)), job.functionName).toEqual(expected(grantsOf(job.store, false)));
      // Both kinds occur: the class is covered, not one function.
      expect(ACTIONS.some((r) => r.operation.store === 'deletes-material') || SCHEDULED.some((j) => j.store === 'deletes-material')).toBe(true);
      expect(legacyOf(framework.statementsOf('deleteExpiredKeys'))).toEqual([read, remove]);
      expect(legacyOf(framework.statementsOf('describeKey'))).toEqual([read]);
      // Neither the dispatcher (no state) nor the provisioner (an API client) gets any.
      for (const name of [DISPATCHER.functionName, ...EVENT_TRIGGERED.map((f) => f.functionName)])
        expect(legacyOf(framework.statementsOf(name)), name).toEqual([]);
      expect(legacyOf(framework.operator())).toEqual([read, remove]);
      // Only the material secrets: never the root key's or the provisioner's, which share the prefix.
      expect(secrets(prefix)['Fn::Sub']).toMatch(new RegExp(`:secret:${prefix}key-versions/\\*$`));
    },
  );

  it('refuses a serverless.yml whose custom.iam lost the statements it recognises functions by, rather than granting nothing silently', () => {
    const broken = new LegacyMaterialAccess({
      classes: { Error },
      service: { provider: { environment: { KMS_SECRETS_PREFIX: 'kms/prod/' } }, custom: { iam: {} } },
    });
    expect(() => broken.hooks['before:package:finalize']()).toThrow(/custom\.iam\.readRootKey and custom\.iam\.deleteMaterial/);
  });
});
