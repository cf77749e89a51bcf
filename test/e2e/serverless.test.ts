import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
// The AWS stack deploys every Action, the secrets Actions too.
import { ACTIONS, ACTIONS_IN_AWS_STACK, AWS_OPERATIONS, DISPATCHER, EVENT_TRIGGERED, SCHEDULED, SECRETS_MANAGER_OPERATIONS } from '../../functions/actions.js';
import { AWS_TARGETS, awsOperationFunctions, MAX_CONDITION_VALUES } from '../../infra/serverless/functions.js';
import { grantsOf, statementOf } from '../../infra/serverless/iam.js';
import { FUNCTIONS_PER_ROLE, logStatementOf, sharedRolesOf } from '../../infra/serverless/roles.js';
import { WORKLOAD } from '../bench/support/cost-model.js';
import { STATE_TABLE_DEFINITION } from '../../lib/keystore/dynamodb/table.js';
import { applySeed } from '../../lib/seed.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { createService } from '../../lib/service.js';
import { createClient, sdkError } from '../helpers/clients.js';
import { REPO_ROOT } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

import { DecryptCommand, GenerateDataKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { freePort, waitFor } from '../helpers/store-files.js';
import {
  BUNDLE_SIZES_COMMAND,
  BUNDLE_SIZES_DOC,
  BUNDLE_SIZES_SECTION,
  compareBundleSizes,
  measurePackagedZips,
  packageStage,
  parseBundleSizes,
} from '../helpers/bundle-sizes.js';
import { paramArgs, testParams } from '../helpers/serverless-params.js';
import { readDocSection } from '../helpers/doc-sections.js';
import { type Template, validateTemplate } from '../helpers/cloudformation-spec.js';

/*
 * The real serverless.yml, in one file because both runs share the bundler's work folder:
 * `npx serverless package --stage <stage>` for every stage, offline and with no AWS credentials
 * (as CI runs it), and the CloudFormation it generates; then `serverless offline`, whose emulated
 * ALB routes the official clients' requests by the same listener rules.
 */

const STAGES = ['dev', 'staging', 'prod'] as const;

type Resource = { Type: string; Properties: Record<string, any> };
/** The prod stage packaged with --param legacySecretsPrefix (docs/deploy-aws.md, "Migrating key material"). */
const UPGRADED = 'prod upgraded';
const LEGACY_PREFIX = 'kms/prod/';
const packaged: Record<string, { dir: string; template: Template; resources: Record<string, Resource> }> = {};

/** The ARN strings of a policy Resource: plain, Fn::Sub templates, or lists of them. */
const arnsOf = (resource: unknown): string[] =>
  typeof resource === 'string'
    ? [resource]
    : Array.isArray(resource)
      ? resource.flatMap(arnsOf)
      : typeof (resource as any)?.['Fn::Sub'] === 'string'
        ? [(resource as any)['Fn::Sub']]
        : [];

/** CloudFormation's logical id of a function's resources: the name with an upper-case first letter. */
const logicalId = (functionName: string) => functionName[0]!.toUpperCase() + functionName.slice(1);

/** The logical id of a function's role, from its packaged function. */
const roleIdOf = (resources: Record<string, Resource>, functionName: string): string =>
  resources[`${logicalId(functionName)}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0];

/**
 * What a function may do: the statements of its role that apply to it, as a role of its own
 * would hold them. A statement of a shared role allowed to one function only (`ArnEquals` on
 * `lambda:SourceFunctionArn`, the log statements) applies to that function alone, and is compared
 * without that condition; a statement with no such condition applies to every function of the role.
 */
function effectiveStatementsOf(resources: Record<string, Resource>, functionName: string): any[] {
  const fn = resources[`${logicalId(functionName)}LambdaFunction`]!.Properties;
  const arn = `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${fn.FunctionName}`;
  const role = resources[roleIdOf(resources, functionName)]!;
  return (role.Properties.Policies as any[])
    .flatMap((p) => p.PolicyDocument.Statement as any[])
    .flatMap((statement) => {
      const source = statement.Condition?.ArnEquals?.['lambda:SourceFunctionArn'];
      if (source === undefined) return [statement];
      if (source['Fn::Sub'] !== arn) return [];
      const { Condition, ...rest } = statement;
      const { ArnEquals, ...others } = Condition;
      expect(Object.keys(ArnEquals)).toEqual(['lambda:SourceFunctionArn']);
      return [Object.keys(others).length > 0 ? { ...rest, Condition: others } : rest];
    });
}

beforeAll(async () => {
  // Stages one after another: the bundler works in a shared folder of the service.
  for (const stage of STAGES) {
    const dir = await mkdtemp(join(tmpdir(), `kms-sls-${stage}-`));
    await packageStage(stage, dir);
    const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
    packaged[stage] = { dir, template, resources: template.Resources as Record<string, Resource> };
  }
  // A stage upgraded from the release that kept key material in Secrets Manager, until migrated.
  const dir = await mkdtemp(join(tmpdir(), 'kms-sls-upgraded-'));
  await packageStage('prod', dir, { ...testParams('prod'), legacySecretsPrefix: LEGACY_PREFIX });
  const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  packaged[UPGRADED] = { dir, template, resources: template.Resources as Record<string, Resource> };
}, 800_000);

afterAll(async () => {
  for (const { dir } of Object.values(packaged)) await rm(dir, { recursive: true, force: true });
});

describe.each(STAGES)('serverless package --stage %s', (stage) => {
  const resources = () => packaged[stage]!.resources;
  const ofType = (type: string) => Object.entries(resources()).filter(([, r]) => r.Type === type);

  it('validates against the CloudFormation resource specifications: every type, property and attribute exists, required properties are present, at most 500 resources', () => {
    expect(validateTemplate(packaged[stage]!.template)).toEqual([]);
  });

  it('deploys every Action in one stack, with room under CloudFormation’s 500 resources for about ten more: no Lambda versions, one load-balancer permission per function, failure alarms for five functions each, roles shared per store access', () => {
    expect(ACTIONS_IN_AWS_STACK).toEqual(ACTIONS);
    expect(ofType('AWS::Lambda::Version')).toEqual([]);
    // 435 for 57 Actions (GetRandomPassword's Secrets Manager rule: +1). It was 444 for the 46 Actions before the secrets Actions: 485 with a role
    // per function, 41 fewer with the Actions' roles shared (infra/serverless/roles.ts). Then the
    // load balancer's second invoke permission per function, which allowed what the scoped first
    // one allows, left out (−47; infra/serverless/scoped-target-group-permissions.cjs), and the
    // failure alarms grouped five functions to an alarm (−40; infra/serverless/function-alarms.cjs):
    // 357 for those 46 Actions; the 11 secrets Actions added 77 (31 of them listener rules).
    const count = Object.keys(resources()).length;
    expect(count).toBe(435);
    // A new Action costs at most seven (its function, log group, target group, invoke permission,
    // three listener rules: Action query, x-acs-action header, X-Amz-Target), and a new failure
    // alarm for every five functions; CloudFormation's hard limit is 500 (the test above).
    const perFunction = ['AWS::Lambda::Function', 'AWS::Logs::LogGroup', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::Lambda::Permission'].length;
    const headroom = (actions: number, rules = 3 * actions) => actions * perFunction + rules + Math.ceil(actions / 5);
    expect(headroom(9)).toBe(65);
    // Room for nine more that speak both protocols, or ten that speak one (two rules, or one).
    expect(500 - count).toBe(65);
    expect(count + headroom(9)).toBeLessThanOrEqual(500);
    expect(count + headroom(10, 2 * 10)).toBeLessThanOrEqual(500);
    // One role per store access the Actions have (split past FUNCTIONS_PER_ROLE functions), one each
    // for the dispatcher, the scheduled and event-triggered jobs, the framework's default and the operator's.
    const roles = sharedRolesOf();
    expect(ofType('AWS::IAM::Role').length).toBe(roles.length + 1 + SCHEDULED.length + EVENT_TRIGGERED.length + 2);
    expect(roles.map((r) => [r.logicalId, r.functions.length])).toEqual([
      ['ReadsActionsRole1', 20],
      ['ReadsActionsRole2', 14],
      ['WritesStateActionsRole1', 16],
      ['CreatesMaterialActionsRole1', 6],
      ['DeletesMaterialActionsRole1', 1],
    ]);
  });

  it('packages one Node.js 22 function per Action, the dispatcher, the scheduled and the event-triggered jobs, each in its own small zip', async () => {
    const functions = ofType('AWS::Lambda::Function');
    const names = [...ACTIONS, DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED].map((f) => `${logicalId(f.functionName)}LambdaFunction`).sort();
    expect(functions.map(([id]) => id).sort()).toEqual(names);
    for (const [, fn] of functions) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    const zips = (await readdir(packaged[stage]!.dir)).filter((f) => f.endsWith('.zip'));
    expect(zips).toHaveLength(names.length);
    for (const zip of zips) expect((await stat(join(packaged[stage]!.dir, zip))).size).toBeLessThan(1024 * 1024);
  });

  it('routes every Action by an ALB rule on the Action query parameter and one on the x-acs-action header (GET and POST), and the AWS KMS and Secrets Manager operations by X-Amz-Target (POST)', () => {
    const rules = ofType('AWS::ElasticLoadBalancingV2::ListenerRule').map(([, r]) => r.Properties);
    for (const route of ACTIONS) {
      const target = `${logicalId(route.functionName)}AlbTargetGroup`;
      const mine = rules.filter((r) => (r.Actions[0].TargetGroupArn.Ref as string).startsWith(target));
      const fields = mine.map((r) => r.Conditions.find((c: any) => c.Field === 'query-string' || c.Field === 'http-header'));
      const targets = [...awsOperationFunctions()].filter(([, functionName]) => functionName === route.functionName).map(([target]) => target);
      // An AWS-only Action (GenerateDataKeyPair) has no Alibaba rules.
      const alibaba = route.operation.alibaba
        ? [
            { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'Action', Value: route.action }] } },
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-acs-action', Values: [route.action] } },
          ]
        : [];
      expect(fields).toEqual([
        ...alibaba,
        ...(targets.length > 0 ? [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-amz-target', Values: targets } }] : []),
      ]);
    }
    // Every AWS operation of both services has its rule; one that two Actions serve by its body goes to the function serving both.
    const awsRuleTargets = rules.flatMap((r) =>
      r.Conditions.filter((c: any) => c.HttpHeaderConfig?.HttpHeaderName === 'x-amz-target').flatMap((c: any) => c.HttpHeaderConfig.Values),
    );
    expect(awsRuleTargets.sort()).toEqual(
      [...[...AWS_OPERATIONS.keys()].map((t) => `TrentService.${t}`), ...[...SECRETS_MANAGER_OPERATIONS.keys()].map((t) => `secretsmanager.${t}`)].sort(),
    );
    expect(awsRuleTargets.sort()).toEqual([...AWS_TARGETS.keys()].sort());
    const ruleFor = (target: string) =>
      rules.find((r) => r.Conditions.some((c: any) => c.HttpHeaderConfig?.Values?.includes(target)))!.Actions[0].TargetGroupArn.Ref as string;
    expect(ruleFor('TrentService.Encrypt')).toMatch(new RegExp(`^${logicalId('encrypt')}AlbTargetGroup`));
    expect(ruleFor('TrentService.Decrypt')).toMatch(new RegExp(`^${logicalId('decrypt')}AlbTargetGroup`));
    expect(ruleFor('TrentService.ListAliases')).toMatch(new RegExp(`^${logicalId('listAliases')}AlbTargetGroup`));
    expect(ruleFor('secretsmanager.GetSecretValue')).toMatch(new RegExp(`^${logicalId('getSecretValue')}AlbTargetGroup`));
    expect(ruleFor('secretsmanager.BatchGetSecretValue')).toMatch(new RegExp(`^${logicalId('batchGetSecretValue')}AlbTargetGroup`));
    expect(ruleFor('secretsmanager.TagResource')).toBe(ruleFor('TrentService.TagResource'));
    for (const rule of rules) {
      // ALB's limit: 5 condition values per rule.
      const values = rule.Conditions.flatMap(
        (c: any) => c.Values ?? c.HttpRequestMethodConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.QueryStringConfig?.Values,
      );
      expect(values.length).toBeLessThanOrEqual(MAX_CONDITION_VALUES);
      const aws = rule.Conditions.some((c: any) => c.HttpHeaderConfig?.HttpHeaderName === 'x-amz-target');
      expect(rule.Conditions).toContainEqual({ Field: 'http-request-method', HttpRequestMethodConfig: { Values: aws ? ['POST'] : ['GET', 'POST'] } });
      expect(rule.Conditions).toContainEqual({ Field: 'path-pattern', Values: ['/'] });
    }
    const priorities = rules.map((r) => r.Priority as number);
    expect(new Set(priorities).size).toBe(rules.length);
    const last = rules.find((r) => r.Priority === Math.max(...priorities))!;
    expect(last.Actions[0].TargetGroupArn.Ref).toMatch(new RegExp(`^${logicalId(DISPATCHER.functionName)}AlbTargetGroup`));
    expect(last.Conditions).toHaveLength(2);
  });

  /** What a function may do besides writing its own log group. */
  const grantedTo = (functionName: string) =>
    effectiveStatementsOf(resources(), functionName).filter((s) => !(s.Action as string[]).every((a) => a.startsWith('logs:')));

  it('lets every function write its own log group and nothing else of CloudWatch Logs, in a role of its own or one it shares (each log statement allowed to its function alone)', () => {
    const functions = [...ACTIONS, DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED].map((f) => f.functionName);
    for (const functionName of functions) {
      const logs = effectiveStatementsOf(resources(), functionName).filter((s) => (s.Action as string[]).some((a) => a.startsWith('logs:')));
      const { Condition, ...own } = logStatementOf(functionName, `kms-${stage}-`);
      expect(Condition).toBeDefined();
      expect(logs, functionName).toEqual([own]);
    }
    // A shared role: the Actions of one store access, each with its log statement, then their common grants.
    for (const role of sharedRolesOf()) {
      const users = ofType('AWS::Lambda::Function')
        .filter(([, fn]) => fn.Properties.Role['Fn::GetAtt'][0] === role.logicalId)
        .map(([, fn]) => fn.Properties.FunctionName);
      expect(users, role.logicalId).toEqual(role.functions.map((f) => `kms-${stage}-${f}`));
      const statements = (resources()[role.logicalId]!.Properties.Policies as any[]).flatMap((p) => p.PolicyDocument.Statement);
      expect(statements, role.logicalId).toEqual([
        ...role.functions.map((f) => logStatementOf(f, `kms-${stage}-`)),
        ...grantsOf(role.store, true).map(statementOf),
      ]);
      expect(resources()[role.logicalId]!.Properties.ManagedPolicyArns ?? [], role.logicalId).toEqual([]);
      expect(resources()[role.logicalId]!.Properties.PermissionsBoundary, role.logicalId).toBeUndefined();
    }
    // Functions with statements of their own keep a role each.
    for (const fn of [DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED])
      expect(roleIdOf(resources(), fn.functionName), fn.functionName).toBe(`${logicalId(fn.functionName)}IamRoleLambdaExecution`);
  });

  it('grants each function exactly the statements its store access declares (infra/serverless/iam.ts, from the Action table), and the dispatcher only the invoke of the Action functions', () => {
    for (const route of ACTIONS) expect(grantedTo(route.functionName), route.functionName).toEqual(grantsOf(route.operation.store, true).map(statementOf));
    for (const job of SCHEDULED) expect(grantedTo(job.functionName), job.functionName).toEqual(grantsOf(job.store, false).map(statementOf));
    expect(grantedTo(DISPATCHER.functionName)).toEqual([
      {
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: ACTIONS.map((r) => ({
          'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:kms-${stage}-${r.functionName}`,
        })),
      },
    ]);
    // The names it invokes are the functions' deployed names.
    for (const route of ACTIONS)
      expect(resources()[`${logicalId(route.functionName)}LambdaFunction`]!.Properties.FunctionName).toBe(`kms-${stage}-${route.functionName}`);
    expect(resources().DispatchLambdaFunction!.Properties.Environment.Variables.KMS_FUNCTION_NAME_PREFIX).toBe(`kms-${stage}-`);
  });

  it('lets no function role create, change or delete a secret or its policy, nor read any secret but its own (the root key; the provisioner its key), and names every account', () => {
    const allowed: Record<string, unknown> = { RootKeySecret: { Ref: 'RootKeySecret' }, ProvisionerSecret: { Ref: 'ProvisionerSecret' } };
    // The operator's role (its own test below) writes the provisioner's secret; no function's does.
    for (const [id, role] of ofType('AWS::IAM::Role').filter(([id]) => id !== 'OperatorRole')) {
      const statements = ((role.Properties.Policies ?? []) as any[]).flatMap((p) => p.PolicyDocument.Statement as any[]);
      for (const statement of statements) {
        const actions = [statement.Action].flat() as string[];
        for (const action of actions.filter((a) => a.startsWith('secretsmanager:'))) expect(action, id).toBe('secretsmanager:GetSecretValue');
        if (actions.some((a) => a.startsWith('secretsmanager:'))) expect(Object.values(allowed), id).toContainEqual(statement.Resource);
        // The account field of every ARN is the real one, never a wildcard.
        for (const arn of arnsOf(statement.Resource)) expect(arn.split(':')[4], arn).not.toBe('*');
      }
    }
    // Only the provisioner reads its own secret; every request function and job reads the root key.
    const readers = (secret: string) =>
      ofType('AWS::IAM::Role')
        .filter(([id, role]) => id !== 'OperatorRole' && JSON.stringify(role.Properties.Policies ?? []).includes(`{"Ref":"${secret}"}`))
        .map(([id]) => id)
        .sort();
    expect(readers('ProvisionerSecret')).toEqual(['ProvisionPartitionKeysIamRoleLambdaExecution']);
    expect(readers('RootKeySecret')).toEqual([...new Set([...ACTIONS, ...SCHEDULED].map((f) => roleIdOf(resources(), f.functionName)))].sort());
    // The framework's default role (the template of the functions' own roles; no function uses it) holds no secret or table access.
    for (const [id, fn] of ofType('AWS::Lambda::Function')) expect(fn.Properties.Role['Fn::GetAtt'][0], id).not.toBe('IamRoleLambdaExecution');
    const shared = JSON.stringify(resources().IamRoleLambdaExecution?.Properties ?? {});
    expect(shared).not.toContain('secretsmanager');
    expect(shared).not.toContain('dynamodb');
  });

  it('creates the root key (one secret per stage, retained, under the stage key, readable only by the stage roles) and resolves nothing from Secrets Manager at deploy time', () => {
    const secret = resources().RootKeySecret as any;
    expect(secret).toMatchObject({ Type: 'AWS::SecretsManager::Secret', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(secret.Properties).toMatchObject({
      Name: `kms/${stage}/root-key`,
      KmsKeyId: { Ref: 'StateKey' },
      GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'seed', PasswordLength: 64, ExcludePunctuation: true },
    });
    expect(secret.Properties.SecretString).toBeUndefined();
    // A replica in a second region only when rootKeyReplicaRegion names one (none by default).
    expect(secret.Properties.ReplicaRegions['Fn::If'][0]).toBe('ReplicateRootKey');
    expect(secret.Properties.ReplicaRegions['Fn::If'][2]).toEqual({ Ref: 'AWS::NoValue' });
    expect((packaged[stage]!.template as any).Conditions.ReplicateRootKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    const policy = resources().RootKeySecretPolicy!.Properties;
    expect(policy.SecretId).toEqual({ Ref: 'RootKeySecret' });
    expect(policy.BlockPublicPolicy).toBe(true);
    expect(policy.ResourcePolicy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'secretsmanager:GetSecretValue',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/kms-${stage}-*` } } },
      }),
    ]);
    // Secrets are per stage, never per key or version: these two, whatever the table holds.
    expect(
      ofType('AWS::SecretsManager::Secret')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['ProvisionerSecret', 'RootKeySecret']);
    const template = JSON.stringify(resources());
    expect(template).not.toContain('{{resolve:');
    expect(template).not.toContain(`kms/${stage}/*`);
  });

  it('keeps the stage state in one retained DynamoDB table under the stage key, and points every function at it', () => {
    const table = resources().StateTable!;
    expect((table as any).DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: `kms-${stage}-state`,
      KeySchema: STATE_TABLE_DEFINITION.KeySchema,
      AttributeDefinitions: STATE_TABLE_DEFINITION.AttributeDefinitions,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { Ref: 'StateKey' } },
    });
    const env = resources().GenerateDataKeyLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({
      KMS_KEY_STORE: 'dynamodb',
      KMS_STATE_TABLE: `kms-${stage}-state`,
      KMS_ROOT_KEY_SOURCE: { 'Fn::Join': ['', ['aws-secrets-manager:', { Ref: 'RootKeySecret' }]] },
      // AWS SDK clients sign for the deploy region (the provider's).
      KMS_AWS_REGIONS: 'eu-central-1',
      KMS_NONCE_STORE: 'backend',
      KMS_LOG_LEVEL: { dev: 'debug', staging: 'info', prod: 'warn' }[stage],
    });
    // No Secrets Manager store or prefix: a new stage's material is in the table alone (an empty
    // KMS_SECRETS_PREFIX is unset: lib/keystore/dynamodb/config.ts).
    expect(Object.keys(env).filter((name) => name.startsWith('KMS_SECRETS_') && env[name] !== '')).toEqual([]);
    expect(Object.keys(resources())).not.toContain('NonceTable');
    for (const [, fn] of ofType('AWS::Lambda::Function')) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('lets only this stage’s roles use the retained stage key, and only through Secrets Manager and DynamoDB; administrators manage it but cannot decrypt', () => {
    const key = resources().StateKey as any;
    expect(key.DeletionPolicy).toBe('Retain');
    const [admin, use, table] = key.Properties.KeyPolicy.Statement;
    expect(admin.Action).not.toContain('kms:Decrypt');
    expect(admin.Action).not.toContain('kms:*');
    expect(use.Action.sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey']);
    expect(use.Condition.ArnLike['aws:PrincipalArn']).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/kms-${stage}-*` });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable
    expect(use.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' });
    // DynamoDB uses it for the table only through DynamoDB, for principals of this account.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable
    expect(table.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 'dynamodb.${AWS::Region}.amazonaws.com' });
    expect(table.Condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    // S3 encrypts the partition registry for the provisioner's role alone, and decrypts it for
    // this account's principals, only for the registry bucket.
    const s3 = key.Properties.KeyPolicy.Statement.slice(3, 5);
    const registry = [
      { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::kms-${stage}-partition-keys` },
      { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::kms-${stage}-partition-keys/*` },
    ];
    expect(s3.map((st: any) => [st.Action, st.Condition.StringLike['kms:EncryptionContext:aws:s3:arn']])).toEqual([
      [['kms:GenerateDataKey', 'kms:Decrypt'], registry],
      [['kms:Decrypt'], registry],
    ]);
    for (const st of s3) {
      expect(st.Condition.StringEquals).toEqual({
        'kms:CallerAccount': { Ref: 'AWS::AccountId' },
        'kms:ViaService': { 'Fn::Sub': `s3.\${AWS::Region}.amazonaws.com` },
      });
    }
    // The provisioner's role by name (a reference could make a cycle): the name its role has.
    const role = resources().ProvisionPartitionKeysIamRoleLambdaExecution!.Properties;
    expect(role.Path).toBe('/');
    const roleName = (role.RoleName['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : `\${AWS::Region}`)).join('-');
    expect(s3[0].Condition.ArnEquals['aws:PrincipalArn']).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${roleName}` });
    expect(s3[1].Condition.ArnEquals).toBeUndefined();
    // The deployment creates the stage's two secrets under the key, and the operator writes the
    // provisioner's: Secrets Manager encrypts for this account's principals (IAM decides), for
    // those two secrets only.
    const secrets = key.Properties.KeyPolicy.Statement[5];
    expect(secrets.Principal).toEqual({ AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root` } });
    expect(secrets.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(secrets.Condition.StringEquals).toEqual({ 'kms:ViaService': { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` } });
    expect(secrets.Condition.StringLike['kms:EncryptionContext:SecretARN']).toEqual([
      { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:kms/${stage}/root-key-*` },
      { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:kms/${stage}/provisioner-key-*` },
    ]);
    expect(key.Properties.KeyPolicy.Statement).toHaveLength(6);
    // Every function role is named so that the pattern admits it.
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      if (id === 'IamRoleLambdaExecution' || id === 'OperatorRole') continue;
      expect(role.Properties.RoleName['Fn::Join'][1].slice(0, 2), id).toEqual(['kms', stage]);
    }
  });

  it('has no more alarms than the cost table counts (docs/deploy-aws.md#cost)', () => {
    // The failure alarms, five functions each (both their metrics; the scheduled jobs' throttles
    // only), and the seven of serverless.yml.
    const functions = ofType('AWS::Lambda::Function').length;
    expect(ofType('AWS::CloudWatch::Alarm').length).toBe(Math.ceil((2 * functions - SCHEDULED.length) / 10) + 7);
    expect(ofType('AWS::CloudWatch::Alarm').length).toBeLessThanOrEqual(WORKLOAD.alarms);
  });

  it('creates the operator role the kms command runs as (the first access keys, backups): the table, the root key read, the provisioner secret written, nothing else', () => {
    const role = resources().OperatorRole!.Properties;
    // Named so that the root key's secret policy and the stage key admit it.
    expect(role.RoleName).toBe(`kms-${stage}-operator`);
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root` } }, Action: 'sts:AssumeRole' },
    ]);
    const statements = role.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const grants = statements.map((st: any) => [st.Action, st.Resource]);
    expect(grants).toEqual([
      [
        ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      ],
      [['secretsmanager:GetSecretValue'], { Ref: 'RootKeySecret' }],
      [['secretsmanager:PutSecretValue'], { Ref: 'ProvisionerSecret' }],
      [['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], { 'Fn::GetAtt': ['StateKey', 'Arn'] }],
    ]);
    expect(packaged[stage]!.template.Outputs).toHaveProperty('OperatorRoleArn');
  });

  it('lets the load balancer invoke each function through one permission, scoped to its own target group and account (the redundant second one left out)', () => {
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'elasticloadbalancing.amazonaws.com');
    const groups = ofType('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups.length).toBe(ACTIONS.length + 1);
    expect(permissions.length).toBe(groups.length);
    for (const [id, p] of permissions) {
      expect(id).toMatch(/LambdaPermissionRegisterTarget$/);
      const group = groups.find(([, g]) => ((g as any).DependsOn ?? []).includes(id))!;
      expect(p.Properties.SourceArn).toEqual({
        'Fn::Sub': `arn:\${AWS::Partition}:elasticloadbalancing:\${AWS::Region}:\${AWS::AccountId}:targetgroup/${group[1].Properties.Name}/*`,
      });
      expect(p.Properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      // The permission of the function the group targets.
      expect(p.Properties.FunctionName).toEqual(group[1].Properties.Targets[0].Id);
    }
    expect(Object.keys(resources()).filter((id) => id.endsWith('LambdaPermissionAlb'))).toEqual([]);
  });

  it('alarms on 5xx answers and on failed scheduled runs, into the stage alarm topic', () => {
    const alarms = Object.fromEntries(ofType('AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties]));
    expect(alarms.ServerErrorsAlarm).toMatchObject({
      Namespace: `kms-${stage}`,
      MetricName: 'ServerErrors',
      Statistic: 'Sum',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    for (const job of SCHEDULED) {
      const alarm = Object.values(alarms).find(
        (a: any) => a.Namespace === 'AWS/Lambda' && a.Dimensions[0].Value.Ref === `${logicalId(job.functionName)}LambdaFunction`,
      );
      expect(alarm, job.functionName).toMatchObject({ MetricName: 'Errors', Threshold: 1, AlarmActions: [{ Ref: 'AlarmTopic' }] });
    }
    const env = resources().DecryptLambdaFunction!.Properties.Environment.Variables;
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(`kms-${stage}`);
  });

  it('e-mails the alarm topic to alarmEmail, and alarms on dead-lettered partition events, state-table throttling and the load balancer’s 5xx', () => {
    expect(resources().AlarmEmailSubscription!.Properties).toEqual({
      TopicArn: { Ref: 'AlarmTopic' },
      Protocol: 'email',
      Endpoint: testParams(stage).alarmEmail,
    });
    const alarms: Record<string, any> = Object.fromEntries(ofType('AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties]));
    for (const alarm of Object.values(alarms)) expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(alarms.PartitionEventsDeadLetteredAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['PartitionEventsDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const throttles = alarms.StateTableThrottledAlarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
    expect(throttles).toEqual(
      ['ReadThrottleEvents', 'WriteThrottleEvents'].map((MetricName) => ({
        Namespace: 'AWS/DynamoDB',
        MetricName,
        Dimensions: [{ Name: 'TableName', Value: { Ref: 'StateTable' } }],
      })),
    );
    // The load balancer's dimension, app/<name>/<id>, cut from the listener ARN by CloudFormation.
    const listenerArn = testParams(stage).listenerArn;
    const select = (i: number, value: string) => value.split('/')[i];
    for (const [id, metric] of [
      ['LoadBalancer5xxAlarm', 'HTTPCode_ELB_5XX_Count'],
      ['LoadBalancerTarget5xxAlarm', 'HTTPCode_Target_5XX_Count'],
    ] as const) {
      expect(alarms[id]).toMatchObject({ Namespace: 'AWS/ApplicationELB', MetricName: metric, Threshold: stage === 'prod' ? 1 : 5 });
      const [dimension] = alarms[id].Dimensions;
      expect(dimension.Name).toBe('LoadBalancer');
      const [separator, parts] = dimension.Value['Fn::Join'];
      const evaluated = parts.map((p: any) => select(p['Fn::Select'][0], p['Fn::Select'][1]['Fn::Split'][1])).join(separator);
      expect(evaluated).toBe(`app/kms-${stage}/50dc6c495c0c9188`);
      expect(parts.every((p: any) => p['Fn::Select'][1]['Fn::Split'][1] === listenerArn)).toBe(true);
    }
  });

  it('alarms on every function’s errors and throttles (written at packaging, five functions to an alarm, at most 10 metrics each), the scheduled jobs’ errors once', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const watched = (fn: string, metric: string) =>
      alarms.filter((a) =>
        [{ MetricName: a.MetricName, Dimensions: a.Dimensions }, ...(a.Metrics ?? []).map((m: any) => m.MetricStat?.Metric ?? {})].some(
          (m: any) => m.MetricName === metric && m.Dimensions?.[0]?.Value?.Ref === `${logicalId(fn)}LambdaFunction`,
        ),
      );
    for (const fn of [...ACTIONS, DISPATCHER, ...SCHEDULED, ...EVENT_TRIGGERED]) {
      expect(watched(fn.functionName, 'Errors'), fn.functionName).toHaveLength(1);
      expect(watched(fn.functionName, 'Throttles'), fn.functionName).toHaveLength(1);
    }
    const grouped = ofType('AWS::CloudWatch::Alarm').filter(([id]) => /^FunctionFailures\d+Alarm$/.test(id));
    expect(grouped.length).toBe(12);
    for (const [id, { Properties: alarm }] of grouped) {
      expect(alarm, id).toMatchObject({
        AlarmName: `kms-${stage}-function-failures-${id.match(/\d+/)![0]}`,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        EvaluationPeriods: 1,
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
      // CloudWatch's hard limit: a metric-math alarm reads at most 10 metrics.
      const metrics = alarm.Metrics.filter((m: any) => m.MetricStat);
      expect(metrics.length, id).toBeLessThanOrEqual(10);
      expect(alarm.Metrics.at(-1), id).toEqual({
        Id: 'failures',
        Label: 'Errors + Throttles',
        Expression: `SUM([${metrics.map((m: any) => m.Id).join(', ')}])`,
        ReturnData: true,
      });
      expect(alarm.Metrics.filter((m: any) => m.ReturnData)).toHaveLength(1);
      // Its description names each of its functions, within CloudWatch's 1,024 characters.
      for (const m of metrics) expect(alarm.AlarmDescription).toContain(resources()[m.MetricStat.Metric.Dimensions[0].Value.Ref]!.Properties.FunctionName);
      expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
    }
  });

  it('keeps every function’s logs, the audit trail, 365 days by default', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(ofType('AWS::Lambda::Function').length);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(365);
  });

  it('runs the scheduled jobs hourly', () => {
    const schedules = ofType('AWS::Events::Rule').flatMap(([, r]) => (r.Properties.ScheduleExpression ? [r.Properties.ScheduleExpression] : []));
    expect(schedules).toEqual(SCHEDULED.map((s) => s.schedule));
  });

  it('feeds the partition-key provisioner from its queue (dead-letter after 5 receives, partial batch failures) and from PartitionCreated events, with a private registry bucket it alone may write', () => {
    const queue = resources().PartitionEventsQueue!.Properties;
    expect(queue).toMatchObject({
      QueueName: `kms-${stage}-partition-events`,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['PartitionEventsDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * resources().ProvisionPartitionKeysLambdaFunction!.Properties.Timeout);
    const mapping = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
    expect(mapping).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['PartitionEventsQueue', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
    expect(rules.map(([, r]) => r.Properties.EventPattern)).toEqual([{ source: ['kms.partitions'], 'detail-type': ['PartitionCreated'] }]);
    // Into the queue, so a failing event is retried and dead-lettered like any message; only that rule may send to it.
    expect(rules[0]![1].Properties.Targets).toEqual([{ Id: 'partition-events-queue', Arn: { 'Fn::GetAtt': ['PartitionEventsQueue', 'Arn'] } }]);
    const queuePolicy = resources().PartitionEventsQueuePolicy!.Properties.PolicyDocument.Statement[0];
    expect(queuePolicy).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['PartitionCreatedRule', 'Arn'] } } },
    });
    const bucketResource = resources().PartitionRegistryBucket as any;
    expect([bucketResource.DeletionPolicy, bucketResource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    const bucket = bucketResource.Properties;
    expect(bucket).toMatchObject({
      BucketName: `kms-${stage}-partition-keys`,
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['StateKey', 'Arn'] } }, BucketKeyEnabled: true },
    ]);
    const bucketPolicy = resources().PartitionRegistryBucketPolicy!.Properties;
    expect(bucketPolicy.Bucket).toEqual({ Ref: 'PartitionRegistryBucket' });
    const [tls, writes] = bucketPolicy.PolicyDocument.Statement;
    expect(tls).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(tls.Resource).toHaveLength(2);
    expect(writes).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['ProvisionPartitionKeysIamRoleLambdaExecution', 'Arn'] } } },
    });
    expect(bucketPolicy.PolicyDocument.Statement).toHaveLength(2);
    const env = resources().ProvisionPartitionKeysLambdaFunction!.Properties.Environment.Variables;
    expect(env).toMatchObject({
      KMS_PARTITION_REGISTRY: `s3://kms-${stage}-partition-keys/partitions/`,
      KMS_PARTITION_KEY_ID: 'alias/partitions',
      // Its access key is read at run time from the secret the stack creates (empty until the operator registers one).
      KMS_PROVISIONER_SECRET: { Ref: 'ProvisionerSecret' },
    });
    expect(env.KMS_PROVISIONER_ACCESS_KEY_ID).toBeUndefined();
    expect(resources().ProvisionerSecret!.Properties).toMatchObject({
      Name: `kms/${stage}/provisioner-key`,
      SecretString: '{}',
      KmsKeyId: { Ref: 'StateKey' },
    });
    expect(resources().ProvisionerSecretPolicy!.Properties.ResourcePolicy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'secretsmanager:GetSecretValue',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['ProvisionPartitionKeysIamRoleLambdaExecution', 'Arn'] } } },
      }),
    ]);
    const statements = (resources().ProvisionPartitionKeysIamRoleLambdaExecution!.Properties.Policies as any[]).flatMap(
      (p) => p.PolicyDocument.Statement as any[],
    );
    const text = JSON.stringify(statements);
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'ProvisionerSecret' } });
    expect(text).not.toContain('dynamodb');
    expect(text).not.toContain('RootKeySecret');
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `arn:aws:s3:::kms-${stage}-partition-keys/partitions/*`,
    });
    // The queue's receive permissions, for its one event source.
    expect(text).toContain('sqs:ReceiveMessage');
  });
});

describe('serverless package --stage prod --param legacySecretsPrefix=kms/prod/ (a stage upgraded before its material is migrated)', () => {
  const resources = () => packaged[UPGRADED]!.resources;
  const legacy = { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${LEGACY_PREFIX}key-versions/*` };
  const read = { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: legacy };
  const remove = { Effect: 'Allow', Action: ['secretsmanager:DeleteSecret'], Resource: legacy };
  const grantedTo = (functionName: string) =>
    effectiveStatementsOf(resources(), functionName).filter((s) => !(s.Action as string[]).every((a) => a.startsWith('logs:')));

  it('validates against the CloudFormation resource specifications', () => {
    expect(validateTemplate(packaged[UPGRADED]!.template)).toEqual([]);
  });

  it(`keeps every role's inline policy within IAM's 10,240 characters, with the longest stage, region and partition the stack allows (${FUNCTIONS_PER_ROLE} functions to a shared role at most)`, () => {
    // Whitespace aside, as IAM counts; the stage's legacy statements included (this is the
    // largest the policies get). The provisioner's role name (kms-<stage>-provisionPartitionKeys-
    // <region>-lambdaRole, 64 at most) leaves 25 characters to stage and region together.
    const stageName = 'x'.repeat(25 - 'ap-southeast-2'.length);
    const resolve = (value: unknown): unknown =>
      JSON.parse(
        JSON.stringify(value)
          .replaceAll('kms-prod-', `kms-${stageName}-`)
          .replaceAll(`\${AWS::Partition}`, 'aws-us-gov')
          .replaceAll(`\${AWS::Region}`, 'ap-southeast-2')
          .replaceAll(`\${AWS::AccountId}`, '123456789012'),
        (_key, v) =>
          v && typeof v === 'object' && !Array.isArray(v)
            ? 'Fn::Sub' in v
              ? v['Fn::Sub']
              : 'Ref' in v
                ? `arn:aws-us-gov:secretsmanager:ap-southeast-2:123456789012:secret:kms/${stageName}/root-key-AbCdEf`
                : 'Fn::GetAtt' in v
                  ? `arn:aws-us-gov:dynamodb:ap-southeast-2:123456789012:table/kms-${stageName}-state-0123456789abcdef0123456789abcdef`
                  : v
            : v,
      );
    for (const [id, role] of Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      const size = ((role.Properties.Policies ?? []) as any[]).reduce((sum, p) => sum + JSON.stringify(resolve(p.PolicyDocument)).length, 0);
      expect(size, id).toBeLessThanOrEqual(10_240);
    }
  });

  it('points every function at the old prefix, so versions not migrated yet are read from their secrets', () => {
    for (const [id, fn] of Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::Lambda::Function'))
      expect(fn.Properties.Environment.Variables.KMS_SECRETS_PREFIX, id).toBe(LEGACY_PREFIX);
  });

  it('adds to each function its declared statements exactly: reading the old material secrets to every state reader, deleting them to the material deleters, nothing to the dispatcher and the provisioner', () => {
    const legacyOf = (grants: readonly string[]) => [...(grants.includes('readRootKey') ? [read] : []), ...(grants.includes('deleteMaterial') ? [remove] : [])];
    for (const route of ACTIONS) {
      const grants = grantsOf(route.operation.store, true);
      expect(grantedTo(route.functionName), route.functionName).toEqual([...grants.map(statementOf), ...legacyOf(grants)]);
    }
    for (const job of SCHEDULED) {
      const grants = grantsOf(job.store, false);
      expect(grantedTo(job.functionName), job.functionName).toEqual([...grants.map(statementOf), ...legacyOf(grants)]);
    }
    expect(JSON.stringify(grantedTo(DISPATCHER.functionName))).not.toContain('secretsmanager');
    for (const fn of EVENT_TRIGGERED) expect(JSON.stringify(grantedTo(fn.functionName))).not.toContain('key-versions');
  });

  it('lets the operator read and delete the old material secrets (migrate-material, --delete-secrets), and no role any other secret of the prefix', () => {
    const operator = resources().OperatorRole!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(operator).toContainEqual(read);
    expect(operator).toContainEqual(remove);
    // Every role's secret access: the stage's two secrets as before, and the old material secrets
    // (never `<prefix>*`, which would take in the root key's and the provisioner's secrets).
    const allowed = [{ Ref: 'RootKeySecret' }, { Ref: 'ProvisionerSecret' }, legacy];
    for (const [id, role] of Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      for (const statement of ((role.Properties.Policies ?? []) as any[]).flatMap((p) => p.PolicyDocument.Statement as any[])) {
        const actions = [statement.Action].flat() as string[];
        if (!actions.some((a) => a.startsWith('secretsmanager:'))) continue;
        expect(allowed, id).toContainEqual(statement.Resource);
        if (actions.includes('secretsmanager:DeleteSecret')) expect(statement.Resource, id).toEqual(legacy);
      }
    }
  });
});

describe('serverless offline: the emulated ALB in front of the real functions', () => {
  let offline: ChildProcess;
  let output = '';
  let port: number;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kms-offline-'));
    await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dataDir), region: REGION, accountId: ACCOUNT_ID }));
    port = await freePort();
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    offline = spawn(
      'npx',
      [
        'serverless',
        'offline',
        '--stage',
        'dev',
        '--param',
        'keyStore=file',
        '--param',
        'nonceStore=journal',
        '--param',
        `dataDir=${dataDir}`,
        ...paramArgs(testParams('dev')),
        '--param',
        `rootKeySource=file:${join(dataDir, 'root.key')}`,
        '--albPort',
        String(port),
        '--httpPort',
        String(httpPort),
        '--lambdaPort',
        String(lambdaPort),
      ],
      {
        cwd: REPO_ROOT,
        // The dispatcher forwards to the Action functions through the emulator's Lambda API (any credentials sign for it).
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${lambdaPort}` },
        detached: true,
      },
    );
    offline.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
    offline.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    await waitFor(() => output.includes('ALB Server ready'), 120_000, 'serverless offline to start');
  }, 180_000);

  afterAll(async () => {
    if (offline?.pid && offline.exitCode === null) {
      // Its function processes may still be writing lock files: the data dir goes once they are gone.
      const exited = new Promise((resolve) => offline.once('exit', resolve));
      process.kill(-offline.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  /** The functions the emulator invoked since `from` (it logs "(λ: name)" per request). */
  const invoked = (from: number) => [...output.slice(from).matchAll(/^(?:GET|POST) \/ \(λ: (\w+)\)/gm)].map((m) => m[1]);

  it.each([
    ['openapi-v3', 'the x-acs-action header rule'],
    ['openapi-v2', 'the Action query rule'],
    ['pop-core-get', 'the Action query rule'],
  ] as const)("%s: GenerateDataKey → Decrypt succeeds, routed by %s to each Action's own function", async (kind, _rule) => {
    const client = createClient(kind, { port }, ADMIN);
    const from = output.length;
    const context = { tenant: 'offline', odd: "+/= *!'()~" };
    const generated = await client.generateDataKey({ KeyId: ALIAS, EncryptionContext: context });
    expect(generated.KeyId).toBe(KEY_ID);
    const decrypted = await client.decrypt({ CiphertextBlob: generated.CiphertextBlob!, EncryptionContext: context });
    expect(decrypted.Plaintext).toBe(generated.Plaintext);
    await waitFor(() => invoked(from).length >= 2, 10_000, 'the emulator log');
    expect(invoked(from)).toEqual(['generateDataKey', 'decrypt']);
    client.close();
  });

  it("the AWS SDK signing for the stage's region (KMS_AWS_REGIONS): GenerateDataKey routed by its X-Amz-Target rule to its function; Decrypt and ListAliases (body-dependent: AsymmetricDecrypt, ListAliasesByKeyId) to the function serving both, without the dispatcher", async () => {
    const kms = new KMSClient({
      region: 'eu-central-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret },
    });
    const from = output.length;
    const generated = await kms.send(new GenerateDataKeyCommand({ KeyId: ALIAS, NumberOfBytes: 32, EncryptionContext: { via: 'alb' } }));
    expect(generated.KeyId).toBe(`arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${KEY_ID}`);
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { via: 'alb' } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
    expect((await kms.send(new ListAliasesCommand({ KeyId: KEY_ID }))).Aliases!.map((a) => a.AliasName)).toEqual([ALIAS]);
    await waitFor(() => invoked(from).length >= 3, 10_000, 'the emulator log');
    expect(invoked(from)).toEqual(['generateDataKey', 'decrypt', 'listAliases']);
    kms.destroy();
  });

  it("the Secrets Manager SDK: CreateSecret and GetSecretValue routed by their X-Amz-Target rules (secretsmanager.*) to their own functions; Alibaba's GetSecretValue by its x-acs-action and Action query rules", async () => {
    const sm = new SecretsManagerClient({
      region: 'eu-central-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret },
    });
    const from = output.length;
    const created = await sm.send(new CreateSecretCommand({ Name: 'offline/secret', SecretString: 's3cr3t' }));
    expect(created.Name).toBe('offline/secret');
    const read = await sm.send(new GetSecretValueCommand({ SecretId: 'offline/secret' }));
    expect(read.SecretString).toBe('s3cr3t');
    for (const request of [
      signedV3Request(ADMIN, 'GetSecretValue', { SecretName: 'offline/secret' }),
      signedRpcRequest(ADMIN, 'GetSecretValue', { SecretName: 'offline/secret' }),
    ]) {
      const response = await sendRaw(port, toRecorded(request));
      expect(response.status, JSON.stringify(response.json)).toBe(200);
      expect(response.json.SecretData).toBe('s3cr3t');
    }
    await waitFor(() => invoked(from).length >= 4, 10_000, 'the emulator log');
    expect(invoked(from)).toEqual(['createSecret', 'getSecretValue', 'getSecretValue', 'getSecretValue']);
    sm.destroy();
  });

  it("a request whose Action is only in a form body falls through to the dispatcher, which forwards it to the Action's function", async () => {
    const request = signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }, { method: 'POST', form: true });
    const headers = { ...request.headers } as Record<string, string | undefined>;
    delete headers['x-acs-action'];
    const from = output.length;
    const response = await sendRaw(port, toRecorded({ ...request, headers }));
    expect(response.status).toBe(200);
    expect(response.json.KeyId).toBe(KEY_ID);
    await waitFor(() => invoked(from).length >= 1, 10_000, 'the emulator log');
    expect(invoked(from)).toEqual(['dispatch']);
  });

  it('a wrong secret is refused by the function behind the ALB with SignatureDoesNotMatch', async () => {
    const client = createClient('openapi-v3', { port }, { ...ADMIN, accessKeySecret: 'not-the-secret-000000' });
    const error = await sdkError(() => client.generateDataKey({ KeyId: ALIAS }));
    expect(error.code ?? error.data?.Code).toBe('SignatureDoesNotMatch');
    client.close();
  });
});

describe('docs/deploy-aws.md', () => {
  it('lists every function the dev stage packages, each within 10 % of its zip, and no other', async () => {
    const measured = await measurePackagedZips(packaged.dev!.dir);
    const committed = parseBundleSizes(await readDocSection(BUNDLE_SIZES_DOC, BUNDLE_SIZES_SECTION));
    expect(compareBundleSizes(committed, measured), `the bundle table is stale: ${BUNDLE_SIZES_COMMAND} rewrites it`).toEqual([]);
  });
});
