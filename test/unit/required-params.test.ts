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
