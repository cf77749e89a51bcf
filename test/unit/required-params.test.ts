import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { testParams } from '../helpers/serverless-params.js';

/*
 * The site-specific parameters of serverless.yml (custom.requiredParams, no defaults) and the
 * local plugin that stops the framework, naming them, when one is missing or malformed
 * (infra/serverless/required-params.cjs), on the real serverless.yml; and the deploy guide's
 * table of every parameter. test/e2e/serverless-params.test.ts runs the real command line.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const RequiredParams = createRequire(import.meta.url)('../../infra/serverless/required-params.cjs');
type Declared = Record<string, { meaning: string; example: string; pattern: string }>;
const config = parse(readFileSync(`${root}serverless.yml`, 'utf8'), { merge: true }) as {
  params: Record<string, Record<string, unknown>>;
  custom: { requiredParams: Declared; paramFormats: Record<string, string> };
  functions: Record<string, unknown>;
  resources: object;
};
const declared = config.custom.requiredParams;
const names = Object.keys(declared);

class ServerlessError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The plugin as the framework constructs it, with `--param name=value` options; its error message, or undefined. */
const refusal = (options: { stage?: string; param?: string[]; help?: boolean }, configuration: object = config): string | undefined => {
  try {
    new RequiredParams({ configurationInput: configuration, classes: { Error: ServerlessError } }, options);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ServerlessError);
    expect((error as ServerlessError).code).toBe('KMS_REQUIRED_PARAMS');
    return (error as Error).message;
  }
};
const cli = (params: Record<string, string>) => Object.entries(params).map(([name, value]) => `${name}=${value}`);

/** A value of each parameter that its pattern refuses, as a user might mistype it. */
const MALFORMED: Record<string, string> = {
  listenerArn: 'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/kms/50dc6c495c0c9188',
  partitionBucket: 'KMS_Partition_Keys',
  kmsEndpoint: 'http://kms.example.com',
  kmsRegion: 'cn hangzhou',
  kmsAccountId: '12345',
  alarmEmail: 'kms-oncall',
};

describe('required parameters', () => {
  it('declares the listener, the bucket, the endpoint, the ARN region and account and the alarm e-mail, none with a default in any stage', () => {
    expect(names.sort()).toEqual(['alarmEmail', 'kmsAccountId', 'kmsEndpoint', 'kmsRegion', 'listenerArn', 'partitionBucket']);
    for (const values of Object.values(config.params)) for (const name of names) expect(values, name).not.toHaveProperty(name);
    expect(Object.keys(MALFORMED).sort()).toEqual(names.sort());
  });

  it.each(['dev', 'staging', 'prod'])('lets stage %s through with every parameter given, as the tests and the examples give them', (stage) => {
    expect(refusal({ stage, param: cli(testParams(stage)) })).toBeUndefined();
    expect(refusal({ stage, param: cli(Object.fromEntries(names.map((n) => [n, declared[n]!.example]))) })).toBeUndefined();
  });

  it('names every missing parameter at once, with its meaning, an example and where the guide documents it', () => {
    const message = refusal({ stage: 'prod' })!;
    expect(message).toContain('Stage "prod" needs these parameters (docs/deploy-aws.md#parameters)');
    for (const name of names)
      expect(message).toContain(`--param ${name}=…  is missing: ${declared[name]!.meaning.replace(/\.$/, '')} (for example ${declared[name]!.example})`);
  });

  it.each(names)('refuses a stage without %s, naming it alone', (name) => {
    const { [name]: _missing, ...rest } = testParams('dev');
    const message = refusal({ param: cli(rest) })!;
    expect(message).toContain(`--param ${name}=…  is missing`);
    expect(message.split('\n')).toHaveLength(2);
  });

  it.each(names)('refuses a malformed %s, naming it and the value', (name) => {
    const message = refusal({ stage: 'staging', param: cli({ ...testParams('staging'), [name]: MALFORMED[name]! }) })!;
    expect(message).toContain(`--param ${name}=${MALFORMED[name]}  is malformed`);
    expect(message.split('\n')).toHaveLength(2);
  });

  it('takes a value from the stage’s own params or the defaults as given, an empty one as missing, and one still holding a variable unchecked', () => {
    const { alarmEmail: _a, ...rest } = testParams('prod');
    const staged = { ...config, params: { ...config.params, prod: { ...config.params.prod, alarmEmail: 'ops@example.com' } } };
    expect(refusal({ stage: 'prod', param: cli(rest) }, staged)).toBeUndefined();
    expect(refusal({ stage: 'dev', param: cli(rest) }, staged)).toContain('--param alarmEmail=…  is missing');
    expect(refusal({ stage: 'prod', param: cli({ ...rest, alarmEmail: '' }) })).toContain('--param alarmEmail=…  is missing');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable, resolved after this check
    const withVariable = { ...config, params: { ...config.params, default: { ...config.params.default, alarmEmail: '${env:KMS_ALARM_EMAIL}' } } };
    expect(refusal({ stage: 'prod', param: cli(rest) }, withVariable)).toBeUndefined();
  });

  it.each([
    ['auditLogRetentionDays', '100'],
    ['auditLogRetentionDays', '365d'],
    ['serverErrorsThreshold', '0'],
    ['rootKeyReplicaRegion', 'EU West'],
    // The old secrets' names are <prefix>key-versions/…: a prefix without its slash matches none.
    ['legacySecretsPrefix', 'kms/prod'],
    ['legacySecretsPrefix', 'kms/prod/*'],
  ])('refuses an optional %s of a form CloudFormation would refuse mid-deploy (%s)', (name, value) => {
    const message = refusal({ stage: 'dev', param: cli({ ...testParams('dev'), [name]: value }) })!;
    expect(message).toContain(`--param ${name}=${value}  is malformed: it must match ${config.custom.paramFormats[name]}`);
  });

  it('takes the optional parameters in their forms, and their defaults', () => {
    const optional = { auditLogRetentionDays: '731', serverErrorsThreshold: '10', rootKeyReplicaRegion: 'eu-west-1', legacySecretsPrefix: 'kms/prod/' };
    expect(refusal({ stage: 'dev', param: cli({ ...testParams('dev'), ...optional }) })).toBeUndefined();
    for (const name of Object.keys(config.custom.paramFormats)) expect(config.params.default, name).toHaveProperty(name);
  });

  it('refuses, once the region is resolved, a listener in another region than the stack', () => {
    const plugin = (region: string) => {
      const serverless = { configurationInput: config, classes: { Error: ServerlessError }, service: { provider: { region } } };
      return new RequiredParams(serverless, { stage: 'prod', param: cli(testParams('prod')) });
    };
    expect(() => plugin('eu-central-1').hooks['before:package:initialize']()).not.toThrow();
    expect(() => plugin('us-east-1').hooks['before:package:initialize']()).toThrow(
      '--param listenerArn names a listener in eu-central-1, but the stack deploys to us-east-1: pass --region eu-central-1, or a listener in us-east-1',
    );
  });

  describe('role names (serverless-iam-roles-per-function names a role <service>-<stage>-<function>-<region>-lambdaRole; IAM allows 64)', () => {
    /** The hook as the framework runs it once the stage and region are resolved, over these functions. */
    const check = (stage: string, region: string, functions: string[] = Object.keys(config.functions)) => {
      // As the framework resolves them: the stage variable filled in, CloudFormation's left.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable
      const resources = JSON.parse(JSON.stringify(config.resources).replaceAll('${sls:stage}', stage));
      const service = { service: 'kms', provider: { region, stage }, resources, getAllFunctions: () => functions };
      const plugin = new RequiredParams(
        { configurationInput: config, classes: { Error: ServerlessError }, service },
        {
          stage,
          // A listener in the stack's region (checked first).
          param: cli({ ...testParams(stage), listenerArn: testParams(stage).listenerArn!.replace('eu-central-1', region) }),
        },
      );
      try {
        plugin.hooks['before:package:initialize']();
        return undefined;
      } catch (error) {
        expect((error as ServerlessError).code).toBe('KMS_STAGE_NAME_TOO_LONG');
        return (error as Error).message;
      }
    };
    const longest = Object.keys(config.functions).reduce((a, b) => (b.length > a.length ? b : a));

    it.each(['dev', 'prod', 'staging', 'qa-123'])('lets stage %s through in eu-central-1', (stage) => {
      expect(check(stage, 'eu-central-1')).toBeUndefined();
    });

    it('refuses a stage that would shorten the provisioner’s role, which the stage key’s policy names with its suffix (in the region the stack deploys to)', () => {
      // kms-<14>-provisionPartitionKeys-eu-central-1-lambdaRole: 65 characters.
      const message = check('integration-eu', 'eu-central-1')!;
      expect(message).toContain('Stage "integration-eu" is too long');
      expect(message).toContain(
        'function provisionPartitionKeys: its role kms-integration-eu-provisionPartitionKeys-eu-central-1-lambdaRole has 65 characters, a policy of the stack names it so',
      );
      expect(message).toContain('in eu-central-1, a stage of at most 13 characters');
      expect(check('integration-e', 'eu-central-1')).toBeUndefined();
      // A longer region leaves less of the 64 to the stage.
      expect(check('integration', 'ap-southeast-1')).toBeUndefined();
      expect(check('integration-e', 'ap-southeast-1')).toContain('in ap-southeast-1, a stage of at most 11 characters');
    });

    it('refuses a stage whose longest function’s role could not be named even without its suffix, computed from the functions the stack has', () => {
      // kms-<16>-<the longest function>-eu-central-1: over 64 even without -lambdaRole.
      const stage = 'x'.repeat(64 - 'kms--'.length - longest.length - '-eu-central-1'.length + 1);
      const message = check(stage, 'eu-central-1')!;
      expect(message).toContain(`function ${longest}: its role kms-${stage}-${longest}-eu-central-1-lambdaRole`);
      expect(message).toContain('the role could not be named');
      // One more function with a longer name lowers the limit: the names are the stack's, not a constant.
      // One character less, and only the provisioner's (named) role is still too long.
      const shorter = check(stage.slice(0, -1), 'eu-central-1')!;
      expect(shorter).toContain('function provisionPartitionKeys');
      expect(shorter).not.toContain(`function ${longest}`);
      expect(check('dev', 'eu-central-1', [...Object.keys(config.functions), 'f'.repeat(50)])).toContain(`function ${'f'.repeat(50)}`);
      // A function whose role no policy names may lose its suffix (the stage's role patterns still admit it).
      const unnamed = Object.keys(config.functions).filter((f) => f !== 'provisionPartitionKeys');
      expect(check('integration-eu', 'eu-central-1', unnamed)).toBeUndefined();
    });
  });

  it('names no role per function for a function that shares one (role:), and refuses a shared role whose name would pass 64 characters', () => {
    const shared = (stage: string, roles: Record<string, unknown>) => {
      const functions = { encrypt: { role: 'ReadsActionsRole1' }, provisionPartitionKeys: {} } as Record<string, object>;
      const resources = { Resources: roles };
      const service = {
        service: 'kms',
        provider: { region: 'eu-central-1', stage },
        resources,
        getAllFunctions: () => Object.keys(functions),
        getFunction: (f: string) => functions[f],
      };
      const plugin = new RequiredParams({ configurationInput: config, classes: { Error: ServerlessError }, service }, { stage, param: cli(testParams(stage)) });
      try {
        plugin.hooks['before:package:initialize']();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const role = (part: string) => ({
      Type: 'AWS::IAM::Role',
      Properties: { RoleName: { 'Fn::Join': ['-', ['kms', 'x', part, { Ref: 'AWS::Region' }, 'lambdaRole']] } },
    });
    // encrypt's own role would be named kms-<stage>-encrypt-…: it has none, so only the provisioner's counts.
    expect(shared('integration-e', { ReadsActionsRole1: role('reads-1') })).toBeUndefined();
    const long = 'r'.repeat(64 - 'kms-x--eu-central-1-lambdaRole'.length + 1);
    expect(shared('dev', { ReadsActionsRole1: role(long) })).toContain(
      `role ReadsActionsRole1: its name kms-x-${long}-eu-central-1-lambdaRole has 65 characters`,
    );
  });

  it('stays out of the way of --help', () => {
    expect(refusal({ help: true })).toBeUndefined();
  });
});

describe('docs/deploy-aws.md#parameters', () => {
  const guide = readFileSync(`${root}docs/deploy-aws.md`, 'utf8');
  const rows = new Map(
    [...guide.matchAll(/^\| `(\w+)` \| (yes|no[^|]*) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => [m[1]!, { required: m[2]!, meaning: m[3]!, example: m[4]! }]),
  );

  it('lists every parameter of serverless.yml once: the required ones as required with their example, the others with their default', () => {
    const defaults = Object.keys(config.params.default!);
    expect([...rows.keys()].sort()).toEqual([...names, ...defaults].sort());
    for (const name of names) {
      expect(rows.get(name)!.required, name).toBe('yes');
      expect(rows.get(name)!.example, name).toContain(declared[name]!.example);
    }
    for (const name of defaults) expect(rows.get(name)!.required, name).toMatch(/^no/);
  });
});
