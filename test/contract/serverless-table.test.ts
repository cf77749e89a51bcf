import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ACTIONS,
  ACTIONS_IN_AWS_STACK,
  AWS_OPERATIONS,
  DISPATCHER,
  EVENT_TRIGGERED,
  KEY_WRITING_ACTIONS,
  MATERIAL_CREATING_ACTIONS,
  MATERIAL_DELETING_ACTIONS,
  OPERATIONS,
  SCHEDULED,
  SECRETS_MANAGER_OPERATIONS,
} from '../../functions/actions.js';
import { AWS_TARGETS, MAX_CONDITION_VALUES } from '../../infra/serverless/functions.js';
import { GRANTS, grantsOf, MATERIAL_PARTITIONS, statementOf } from '../../infra/serverless/iam.js';
import { entryKey } from '../../lib/keystore/dynamodb/items.js';
import { secretEntryNames } from '../../lib/secrets/records.js';
import { logStatementOf, sharedRolesOf } from '../../infra/serverless/roles.js';
import { STATE_TABLE_DEFINITION } from '../../lib/keystore/dynamodb/table.js';
import { servedByFunctionOf } from '../../lib/action.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface AlbEvent {
  alb: { priority: number; conditions: { path: string; method: string[]; query?: Record<string, string>; header?: { name: string; values: string[] } } };
}
interface Statement {
  Action: string[];
  Condition?: Record<string, unknown>;
  Resource?: unknown;
}
interface FunctionConfig {
  handler: string;
  events?: Array<AlbEvent | { schedule: string } | Record<string, unknown>>;
  iamRoleStatements?: Statement[];
  role?: string;
}
interface RoleResource {
  Type: string;
  Properties: { RoleName: unknown; Policies: Array<{ PolicyDocument: { Statement: Statement[] } }>; ManagedPolicyArns?: unknown };
}

const template = parse(readFileSync(`${root}serverless.yml`, 'utf8'), { merge: true }) as {
  functions: Record<string, FunctionConfig>;
  resources: { Resources: Record<string, RoleResource> };
};
/** The statements a function's role holds: its own (iamRoleStatements) or those of the role it shares. */
const roleStatementsOf = (fn: FunctionConfig): Statement[] =>
  fn.role ? template.resources.Resources[fn.role]!.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement) : (fn.iamRoleStatements ?? []);
const albEvents = (fn: FunctionConfig) => (fn.events ?? []).filter((e): e is AlbEvent => 'alb' in e).map((e) => e.alb);

describe('Table: Actions ⇄ serverless.yml', () => {
  it('when serverless.yml is read, it declares exactly the table functions — one per Action, the dispatcher, the scheduled and event-triggered jobs — with the table handlers', () => {
    const declared = Object.fromEntries(Object.entries(template.functions).map(([name, fn]) => [name, fn.handler]));
    const expected = Object.fromEntries(
      [...ACTIONS, DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED].map((r) => [r.functionName, r.file.replace(/\.ts$/, '.handler')]),
    );
    expect(declared).toEqual(expected);
  });

  it('when an Action is routed, its function has one ALB rule on the Action query parameter and one on the x-acs-action header, with the same methods, and one on X-Amz-Target for the AWS operations it serves', () => {
    for (const route of ACTIONS) {
      const rules = albEvents(template.functions[route.functionName]!);
      // An AWS operation comes here when this function serves every Action that may serve it (its
      // own, or one it also serves, as Encrypt serves RSAES_* through AsymmetricEncrypt); one that
      // no function serves whole goes to the dispatcher.
      const served = new Set(servedByFunctionOf(route.operation).map((definition) => definition.name));
      // Both services' operations (TagResource: `TrentService.TagResource` and `secretsmanager.TagResource`) in one rule.
      const targets = [...AWS_TARGETS]
        .filter(([, actions]) => actions.includes(route.action) && actions.every((action) => served.has(action)))
        .map(([target]) => target);
      // An AWS-only Action (GenerateDataKeyPair) has no Alibaba rules.
      const alibabaRules = route.operation.alibaba ? 2 : 0;
      expect(rules.map((r) => r.conditions.query ?? r.conditions.header)).toEqual([
        ...(alibabaRules ? [{ Action: route.action }, { name: 'x-acs-action', values: [route.action] }] : []),
        ...(targets.length > 0 ? [{ name: 'x-amz-target', values: targets }] : []),
      ]);
      for (const rule of rules.slice(0, alibabaRules)) expect(rule.conditions).toMatchObject({ path: '/', method: ['GET', 'POST'] });
      for (const rule of rules.slice(alibabaRules)) expect(rule.conditions).toMatchObject({ path: '/', method: ['POST'] });
      // ALB's limit: 5 condition values in a rule (the path, each method, each header or query value).
      for (const rule of rules) {
        const { path, method, query, header } = rule.conditions;
        expect([path].length + method.length + Object.keys(query ?? {}).length + (header?.values.length ?? 0), route.action).toBeLessThanOrEqual(
          MAX_CONDITION_VALUES,
        );
      }
    }
  });

  it('when the table is deployed, every Action has its function and its rules: each Alibaba Action on Action and x-acs-action, every AWS KMS operation on TrentService.*, every Secrets Manager operation on secretsmanager.*', () => {
    expect(ACTIONS_IN_AWS_STACK).toEqual(ACTIONS);
    expect(ACTIONS.map((r) => r.operation)).toEqual(OPERATIONS);
    const byTarget = new Map<string, string[]>();
    for (const route of ACTIONS) {
      const fn = template.functions[route.functionName];
      expect(fn, route.action).toBeDefined();
      const rules = albEvents(fn!);
      if (route.operation.alibaba) {
        expect(
          rules.filter((r) => r.conditions.query?.Action === route.action),
          route.action,
        ).toHaveLength(1);
        expect(
          rules.filter((r) => r.conditions.header?.name === 'x-acs-action' && r.conditions.header.values.includes(route.action)),
          route.action,
        ).toHaveLength(1);
      }
      for (const rule of rules.filter((r) => r.conditions.header?.name === 'x-amz-target'))
        for (const target of rule.conditions.header!.values) byTarget.set(target, [...(byTarget.get(target) ?? []), route.functionName]);
    }
    expect([...byTarget.keys()].sort()).toEqual(
      [...[...AWS_OPERATIONS.keys()].map((t) => `TrentService.${t}`), ...[...SECRETS_MANAGER_OPERATIONS.keys()].map((t) => `secretsmanager.${t}`)].sort(),
    );
    for (const [target, functions] of byTarget) expect(functions, target).toHaveLength(1);
    // The secrets Actions, by name: Alibaba's and Secrets Manager's operations (BatchGetSecretValue is AWS-only).
    const secrets = [
      'CreateSecret',
      'GetSecretValue',
      'PutSecretValue',
      'DescribeSecret',
      'ListSecrets',
      'ListSecretVersionIds',
      'UpdateSecret',
      'UpdateSecretVersionStage',
      'DeleteSecret',
      'RestoreSecret',
      'BatchGetSecretValue',
    ];
    for (const action of secrets) {
      const route = ACTIONS.find((r) => r.action === action)!;
      expect(byTarget.get(`secretsmanager.${action}`), action).toEqual([route.functionName]);
      expect(albEvents(template.functions[route.functionName]!).length, action).toBe(action === 'BatchGetSecretValue' ? 1 : 3);
    }
    for (const action of ['TagResource', 'UntagResource'])
      expect([byTarget.get(`TrentService.${action}`), byTarget.get(`secretsmanager.${action}`)], action).toEqual([
        [ACTIONS.find((r) => r.action === action)!.functionName],
        [ACTIONS.find((r) => r.action === action)!.functionName],
      ]);
  });

  it('when rules are ranked, priorities are unique and the dispatcher rule (path and methods only) comes last', () => {
    const all = Object.values(template.functions).flatMap(albEvents);
    const priorities = all.map((r) => r.priority);
    expect(new Set(priorities).size).toBe(priorities.length);
    const [dispatcherRule] = albEvents(template.functions[DISPATCHER.functionName]!);
    expect(dispatcherRule!.conditions).toEqual({ path: '/', method: ['GET', 'POST'] });
    expect(dispatcherRule!.priority).toBe(Math.max(...priorities));
  });

  it('when permissions are granted, every function lists exactly the statements its store access gets (infra/serverless/iam.ts), each as custom.iam declares it', () => {
    const iam = (template as unknown as { custom: { iam: Record<string, unknown> } }).custom.iam;
    expect(Object.keys(iam).sort()).toEqual([...GRANTS].sort());
    for (const grant of GRANTS) expect(iam[grant], grant).toEqual(statementOf(grant));
    // An Action's function shares the role of the Actions with its store access: each one's log
    // statement (allowed to that function alone), then the statements of that access.
    const roles = sharedRolesOf();
    for (const route of ACTIONS) {
      const fn = template.functions[route.functionName]!;
      expect(fn.iamRoleStatements, route.functionName).toBeUndefined();
      const role = roles.find((r) => r.logicalId === fn.role)!;
      expect(role.store, route.functionName).toBe(route.operation.store);
      expect(role.functions, route.functionName).toContain(route.functionName);
    }
    for (const role of roles) {
      const resource = template.resources.Resources[role.logicalId]!;
      expect(resource.Type).toBe('AWS::IAM::Role');
      expect(
        resource.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement),
        role.logicalId,
      ).toEqual([...role.functions.map((f) => logStatementOf(f)), ...grantsOf(role.store, true).map(statementOf)]);
      // Named as the stage's roles are (the root key's secret and the stage key admit kms-<stage>-*).
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable, as serverless.yml holds it
      expect(resource.Properties.RoleName).toEqual({ 'Fn::Join': ['-', ['kms', '${sls:stage}', role.namePart, { Ref: 'AWS::Region' }, 'lambdaRole']] });
    }
    expect(Object.values(template.functions).filter((fn) => fn.role).length).toBe(ACTIONS.length);
    for (const job of SCHEDULED)
      expect(template.functions[job.functionName]!.iamRoleStatements, job.functionName).toEqual(grantsOf(job.store, false).map(statementOf));
    // Writing state never reaches material; material is written only where the table says.
    expect(MATERIAL_PARTITIONS).toEqual(['entry#key-versions', 'entry#version-index']);
    // A secret's entries (its metadata, its write-once sealed values) are state, not key material:
    // the secrets Actions that write them, and DeleteSecret and the scheduled deletion that destroy
    // them, need writeState (outside the material partitions) and no more.
    for (const name of [secretEntryNames.meta('s'), secretEntryNames.value('uid', 'entry')])
      expect(MATERIAL_PARTITIONS, name).not.toContain(entryKey(name).pk!.S);
    for (const action of [...MATERIAL_CREATING_ACTIONS, ...MATERIAL_DELETING_ACTIONS]) expect(KEY_WRITING_ACTIONS.has(action)).toBe(true);
  });

  it('when the dispatcher is declared, it may only invoke the request-serving functions, and touches no state or secret', () => {
    const fn = template.functions[DISPATCHER.functionName]! as FunctionConfig & { environment: Record<string, string> };
    expect(fn.iamRoleStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: ACTIONS.map((r) => ({
          'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:kms-\${sls:stage}-${r.functionName}`,
        })),
      },
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable, as serverless.yml holds it
    expect(fn.environment).toEqual({ KMS_FUNCTION_NAME_PREFIX: 'kms-${sls:stage}-' });
  });

  it('when any function is declared, none may create, change or delete a secret or read one by a wildcard', () => {
    for (const [name, fn] of Object.entries(template.functions)) {
      for (const statement of roleStatementsOf(fn)) {
        for (const action of statement.Action)
          expect(action.startsWith('secretsmanager:') ? action : 'secretsmanager:GetSecretValue', name).toBe('secretsmanager:GetSecretValue');
        if (statement.Action.includes('secretsmanager:GetSecretValue'))
          expect(JSON.stringify((statement as { Resource?: unknown }).Resource), name).not.toContain('*');
      }
    }
  });

  it('when the stage is deployed, no function reserves concurrency (every function reserving some would exhaust a default account), and the state table matches the backend definition', () => {
    for (const [name, fn] of Object.entries(template.functions)) expect((fn as unknown as Record<string, unknown>).reservedConcurrency, name).toBeUndefined();
    const table = (template as unknown as { resources: { Resources: Record<string, { Properties: Record<string, unknown>; DeletionPolicy?: string }> } })
      .resources.Resources.StateTable!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.KeySchema).toEqual(STATE_TABLE_DEFINITION.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(STATE_TABLE_DEFINITION.AttributeDefinitions);
    expect(table.Properties.BillingMode).toBe(STATE_TABLE_DEFINITION.BillingMode);
    expect(table.Properties.TimeToLiveSpecification).toEqual(STATE_TABLE_DEFINITION.TimeToLiveSpecification);
  });

  it('when a scheduled job is declared, serverless.yml gives it the table schedule and no ALB rule', () => {
    for (const job of SCHEDULED) expect(template.functions[job.functionName]!.events).toEqual([{ schedule: job.schedule }]);
  });

  it('when the partition-key provisioner is declared, it is triggered by its queue only (partial batch failures; PartitionCreated events arrive through it), may touch only its own secret and the registry objects, and never the key store', () => {
    const fn = template.functions.provisionPartitionKeys!;
    expect(fn.events).toEqual([
      { sqs: { arn: { 'Fn::GetAtt': ['PartitionEventsQueue', 'Arn'] }, batchSize: 10, functionResponseType: 'ReportBatchItemFailures' } },
    ]);
    expect(albEvents(fn)).toEqual([]);
    const actions = (fn.iamRoleStatements ?? []).flatMap((s) => s.Action);
    // Its own secret (its access key, read at run time) through the stage key, and the registry.
    expect(actions.sort()).toEqual(['kms:Decrypt', 's3:GetObject', 's3:ListBucket', 's3:PutObject', 'secretsmanager:GetSecretValue']);
    expect(fn.iamRoleStatements![0]).toEqual({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'ProvisionerSecret' } });
    expect((fn as unknown as { environment: Record<string, unknown> }).environment.KMS_PROVISIONER_SECRET).toEqual({ Ref: 'ProvisionerSecret' });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable, as serverless.yml holds it
    expect(JSON.stringify(fn.iamRoleStatements)).toContain('${param:partitionBucket}/partitions/*');
  });

  it('when a row names a file, that file exports the row operation and a Lambda handler', async () => {
    for (const route of ACTIONS) {
      const module = (await import(`${root}${route.file}`)) as { action: unknown; handler: unknown };
      expect(module.action).toBe(route.operation);
      expect(typeof module.handler).toBe('function');
      expect(route.operation.name).toBe(route.action);
    }
    for (const fn of [DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED])
      expect(typeof ((await import(`${root}${fn.file}`)) as { handler: unknown }).handler).toBe('function');
  });

  it('when Actions are listed, none appears twice, and every key-writing Action is in the table', () => {
    expect(new Set(ACTIONS.map((r) => r.action)).size).toBe(ACTIONS.length);
    expect(new Set(ACTIONS.map((r) => r.functionName)).size).toBe(ACTIONS.length);
    for (const action of KEY_WRITING_ACTIONS) expect(ACTIONS.some((r) => r.action === action)).toBe(true);
  });
});
