import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS, DISPATCHER, EVENT_TRIGGERED, SCHEDULED } from '../../functions/actions.js';
import {
  cronFromRate,
  deployToFunctionCompute,
  FC_DEFAULTS,
  FcDeployError,
  type FcDeployOptions,
  type FcFunctionSource,
  type FcScheduledSource,
} from '../../infra/fc/deploy.js';
import { fcClient } from '../../infra/fc/main.js';
import { BUNDLE_ENTRY, bundleFunction, crc32 } from '../../infra/fc/package.js';
import { functionSources, policyFor, ROLE_GROUPS, type RoleGroup } from '../../infra/fc/roles.js';
import type { FcHttpResult } from '../../lib/adapters/alibaba-fc/types.js';
import { readStateConfig } from '../../lib/config/service.js';
import { FakeKmsSecrets } from '../helpers/fake-alibaba-kms-secrets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';

interface Call {
  method: string;
  path: string;
  body: any;
  authorization: string | undefined;
}

interface FakeFunction {
  config: any;
  triggers: Map<string, { triggerName: string; triggerType: string; triggerConfig: string }>;
  asyncConfig?: any;
}

/**
 * A stand-in for the Function Compute 3.0 API (2023-03-30) on 127.0.0.1, reached by the official
 * SDK (`@alicloud/fc20230330`): records every call and keeps functions, their triggers and async
 * invocation configs, answering as FC 3.0 does — 404 with a Code for what is absent, 409 for what
 * already exists, the resource as JSON otherwise.
 */
class FakeFunctionCompute {
  readonly calls: Call[] = [];
  readonly functions = new Map<string, FakeFunction>();
  /** Answers the next GET of these paths with 404 although they exist (a concurrent run's creation). */
  readonly staleGets = new Set<string>();
  /** Fails the calls it returns a status and Code for (fault injection). */
  fail: (call: Call) => { status: number; code: string } | undefined = () => undefined;
  #server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  client() {
    return fcClient(
      {
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'test-id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test-secret',
        ALIBABA_CLOUD_REGION: REGION,
        ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
      },
      this.url,
    );
  }

  writes() {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').replace(/\?.*$/, '');
    const call: Call = { method: req.method!, path, body: text ? JSON.parse(text) : undefined, authorization: req.headers.authorization };
    this.calls.push(call);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': `req-${this.calls.length}` });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: string) => send(status, { Code: code, Message: `${code}: ${path}`, RequestId: `req-${this.calls.length}` });
    const injected = this.fail(call);
    if (injected) return fail(injected.status, injected.code);
    if (call.method === 'GET' && this.staleGets.delete(path)) return fail(404, /triggers/.test(path) ? 'TriggerNotFound' : 'FunctionNotFound');

    const m = /^\/2023-03-30\/functions(?:\/([^/]+)(?:\/(triggers|async-invoke-config)(?:\/([^/]+))?)?)?$/.exec(path);
    if (!m) return fail(404, 'PathNotFound');
    const [, functionName, sub, triggerName] = m;
    const body = call.body ?? {};
    if (!functionName) {
      if (call.method !== 'POST') return fail(405, 'MethodNotAllowed');
      if (this.functions.has(body.functionName)) return fail(409, 'FunctionAlreadyExists');
      this.functions.set(body.functionName, { config: body, triggers: new Map() });
      return send(200, { ...body, code: undefined, codeChecksum: '1' });
    }
    const fn = this.functions.get(functionName);
    if (!fn) return fail(404, 'FunctionNotFound');
    if (!sub) {
      if (call.method === 'PUT') fn.config = { ...fn.config, ...body };
      return send(200, { functionName, ...fn.config, code: undefined });
    }
    if (sub === 'async-invoke-config') {
      if (call.method !== 'PUT') return fail(405, 'MethodNotAllowed');
      fn.asyncConfig = body;
      return send(200, { functionArn: `acs:fc:${REGION}:${ACCOUNT}:functions/${functionName}`, ...body });
    }
    if (!triggerName) {
      if (call.method !== 'POST') return fail(405, 'MethodNotAllowed');
      if (fn.triggers.has(body.triggerName)) return fail(409, 'TriggerAlreadyExists');
      fn.triggers.set(body.triggerName, body);
      return send(200, { ...body, triggerId: `t-${body.triggerName}` });
    }
    const trigger = fn.triggers.get(triggerName);
    if (!trigger) return fail(404, 'TriggerNotFound');
    if (call.method === 'PUT') Object.assign(trigger, body);
    return send(200, trigger);
  }
}

const fakeCode = (source: FcFunctionSource) => ({ zipFile: Buffer.from(`code of ${source.functionName}`).toString('base64') });
const HTTP = functionSources({ actions: ACTIONS, dispatcher: DISPATCHER });
const JOBS: FcScheduledSource[] = SCHEDULED.map((job) => ({ functionName: job.functionName, file: job.file, roleGroup: job.store, schedule: job.schedule }));
const PROVISIONER: FcFunctionSource = { ...EVENT_TRIGGERED[0]!, roleGroup: 'provisioner' };
const QUEUES = { region: REGION, accountId: ACCOUNT, queue: 'kms-dev-partitions', deadLetterQueue: 'kms-dev-partitions-dlq' };
const ROLES = Object.fromEntries(ROLE_GROUPS.map((group) => [group, `acs:ram::${ACCOUNT}:role/kms-dev-${group}`])) as Record<RoleGroup, string>;
const STORE_ENV = (group: RoleGroup): Record<string, string> =>
  group === 'provisioner'
    ? { KMS_ENDPOINT: 'https://kms.example', KMS_PROVISIONER_SECRET: 'alibaba-kms-secret:kms-dev-provisioner' }
    : { KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms-dev-root-key', KMS_POSTGRES_URL_SOURCE: `alibaba-kms-secret:kms-dev-postgres-url-${group}` };
const fnName = (name: string) => `kms-dev-${name}`;
const base = '/2023-03-30/functions';

describe('Deployment: Alibaba Function Compute 3.0 (infra/fc/deploy.ts)', () => {
  let fc: FakeFunctionCompute;
  const deploy = (stage: string, more: Partial<FcDeployOptions> = {}) =>
    deployToFunctionCompute({
      client: fc.client(),
      stage,
      functions: HTTP,
      scheduled: JOBS,
      provisioner: { source: PROVISIONER, queues: QUEUES },
      roles: ROLES,
      codeFor: fakeCode,
      environment: { KMS_REGION: REGION },
      environmentFor: STORE_ENV,
      ...more,
    });
  const created = () => fc.calls.filter((c) => c.method === 'POST' && c.path === base).map((c) => c.body);
  const createdTriggers = () => fc.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/triggers'));

  afterEach(async () => {
    await fc?.stop();
  });

  it('when a stage is deployed for the first time, every function is created with its group’s role, its timeout, no password, and its trigger', async () => {
    fc = await new FakeFunctionCompute().start();
    const report = await deploy('dev');

    expect(fc.calls.every((c) => c.authorization?.startsWith('ACS3-HMAC-SHA256 Credential=test-id,'))).toBe(true);
    expect(fc.calls.filter((c) => c.method === 'PUT' && !c.path.endsWith('/async-invoke-config'))).toEqual([]);
    const bodies = created();
    expect(bodies.map((b) => b.functionName)).toEqual([...HTTP, ...JOBS, PROVISIONER].map((s) => fnName(s.functionName)));
    for (const source of HTTP) {
      const body = bodies.find((b) => b.functionName === fnName(source.functionName))!;
      expect(body).toMatchObject({
        runtime: 'nodejs20',
        handler: 'index.fcHandler',
        timeout: 10,
        memorySize: 512,
        role: ROLES[source.roleGroup],
        code: fakeCode(source),
      });
      expect(body.environmentVariables).toEqual({
        KMS_LOG_LEVEL: 'info',
        KMS_KEY_STORE: 'postgres',
        KMS_REGION: REGION,
        KMS_ROOT_KEY_SOURCE: 'alibaba-kms-secret:kms-dev-root-key',
        KMS_POSTGRES_URL_SOURCE: `alibaba-kms-secret:kms-dev-postgres-url-${source.roleGroup}`,
      });
    }
    // Each function runs with the role its declaration selects: an Action's store access, the dispatcher's own.
    const roleOf = (name: string) => bodies.find((b) => b.functionName === fnName(name))!.role;
    expect(roleOf('decrypt')).toBe(ROLES.reads);
    expect(roleOf('createKey')).toBe(ROLES['creates-material']);
    expect(roleOf('deleteKeyMaterial')).toBe(ROLES['deletes-material']);
    expect(roleOf('createAlias')).toBe(ROLES['writes-state']);
    expect(roleOf('dispatch')).toBe(ROLES.dispatch);
    expect(roleOf('rotateKeys')).toBe(ROLES['creates-material']);
    expect(roleOf('deleteExpiredKeys')).toBe(ROLES['deletes-material']);
    expect(roleOf('provisionPartitionKeys')).toBe(ROLES.provisioner);
    for (const route of ACTIONS) expect(roleOf(route.functionName), route.action).toBe(ROLES[route.operation.store]);
    // The service accepts each store function's environment as Function Compute runs it: shared state, a managed root key.
    for (const body of bodies.filter((b) => b.role !== ROLES.provisioner)) {
      expect(readStateConfig({ ...body.environmentVariables, FC_FUNCTION_NAME: body.functionName }).backend).toEqual({
        urlSource: { kind: 'alibaba-kms-secret', secretName: expect.stringMatching(/^kms-dev-postgres-url-/) },
        rootKey: { kind: 'alibaba-kms-secret', secretName: 'kms-dev-root-key' },
      });
    }
    // No password anywhere in any function's configuration.
    for (const body of bodies) expect(JSON.stringify(body)).not.toMatch(/postgres(ql)?:\/\//);

    for (const job of JOBS) expect(bodies.find((b) => b.functionName === fnName(job.functionName))).toMatchObject({ handler: 'index.handler', timeout: 300 });
    const provisioner = bodies.find((b) => b.functionName === fnName('provisionPartitionKeys'))!;
    expect(provisioner).toMatchObject({ handler: 'index.fcHandler', timeout: 60, role: ROLES.provisioner });
    // The provisioner opens no store: neither the root key nor the database is in its environment;
    // nor its access key: only the name of the secret it reads it from.
    expect(provisioner.environmentVariables).toEqual({
      KMS_LOG_LEVEL: 'info',
      KMS_REGION: REGION,
      KMS_ENDPOINT: 'https://kms.example',
      KMS_PROVISIONER_SECRET: 'alibaba-kms-secret:kms-dev-provisioner',
    });

    const triggers = new Map(createdTriggers().map((c) => [c.path, { ...c.body, triggerConfig: JSON.parse(c.body.triggerConfig) }]));
    for (const source of HTTP) {
      expect(triggers.get(`${base}/${fnName(source.functionName)}/triggers`)).toEqual({
        triggerName: 'http',
        triggerType: 'http',
        triggerConfig: { authType: 'anonymous', disableURLInternet: true, methods: ['GET', 'POST'] },
      });
    }
    for (const job of JOBS) {
      expect(triggers.get(`${base}/${fnName(job.functionName)}/triggers`)).toEqual({
        triggerName: 'schedule',
        triggerType: 'timer',
        triggerConfig: { cronExpression: '@every 60m', enable: true },
      });
    }
    // No trigger is both anonymous and on the internet.
    for (const { triggerType, triggerConfig } of triggers.values()) {
      if (triggerType === 'http') expect(triggerConfig.authType !== 'anonymous' || triggerConfig.disableURLInternet === true).toBe(true);
    }
    expect(triggers.get(`${base}/${fnName('provisionPartitionKeys')}/triggers`)).toEqual({
      triggerName: 'partition-events',
      triggerType: 'eventbridge',
      triggerConfig: {
        triggerEnable: true,
        asyncInvocationType: true,
        eventRuleFilterPattern: '{}',
        eventSourceConfig: {
          eventSourceType: 'MNS',
          eventSourceParameters: { sourceMNSParameters: { RegionId: REGION, QueueName: 'kms-dev-partitions', IsBase64Decode: false } },
        },
        runOptions: {
          mode: 'event-driven',
          retryStrategy: { PushRetryStrategy: 'EXPONENTIAL_DECAY_RETRY' },
          errorsTolerance: 'ALL',
          deadLetterQueue: { Arn: `acs:mns:${REGION}:${ACCOUNT}:/queues/kms-dev-partitions-dlq` },
        },
      },
    });
    // Its failed invocations are retried, then sent to the dead-letter queue; configured before its trigger exists.
    const asyncCalls = fc.calls.filter((c) => c.path.endsWith('/async-invoke-config'));
    expect(asyncCalls.map((c) => [c.method, c.path])).toEqual([['PUT', `${base}/${fnName('provisionPartitionKeys')}/async-invoke-config`]]);
    expect(asyncCalls[0]!.body).toEqual({
      maxAsyncRetryAttempts: 3,
      maxAsyncEventAgeInSeconds: 86_400,
      destinationConfig: { onFailure: { destination: `acs:mns:${REGION}:${ACCOUNT}:/queues/kms-dev-partitions-dlq/messages` } },
    });
    expect(fc.calls.indexOf(asyncCalls[0]!)).toBeLessThan(fc.calls.findIndex((c) => c.method === 'POST' && c.path.endsWith('provisionPartitionKeys/triggers')));
    expect(report.functions).toHaveLength(HTTP.length + JOBS.length + 1);
    expect(report.functions.every((f) => f.function === 'created' && f.trigger === 'created')).toBe(true);
  });

  it('when the same stage is deployed again, every resource is updated and nothing is created', async () => {
    fc = await new FakeFunctionCompute().start();
    await deploy('dev');
    const firstRun = fc.calls.length;
    const report = await deploy('dev', { environment: { KMS_REGION: REGION, KMS_LOG_LEVEL: 'warn' } });
    const second = fc.calls.slice(firstRun);

    expect(second.filter((c) => c.method === 'POST')).toEqual([]);
    const all = [...HTTP, ...JOBS, PROVISIONER].map((s) => fnName(s.functionName));
    expect(second.filter((c) => c.method === 'PUT').map((c) => c.path)).toEqual(
      all.flatMap((n) => [
        `${base}/${n}`,
        ...(n.endsWith('provisionPartitionKeys') ? [`${base}/${n}/async-invoke-config`] : []),
        `${base}/${n}/triggers/${n.endsWith('provisionPartitionKeys') ? 'partition-events' : JOBS.some((j) => n === fnName(j.functionName)) ? 'schedule' : 'http'}`,
      ]),
    );
    const triggerUpdate = second.find((c) => c.method === 'PUT' && c.path.endsWith('/triggers/http'))!;
    expect(JSON.parse(triggerUpdate.body.triggerConfig)).toEqual({ authType: 'anonymous', disableURLInternet: true, methods: ['GET', 'POST'] });
    expect(fc.functions.get(fnName('decrypt'))!.config.environmentVariables.KMS_LOG_LEVEL).toBe('warn');
    expect(fc.functions.size).toBe(all.length);
    expect([...fc.functions.values()].every((f) => f.triggers.size === 1)).toBe(true);
    expect(report.functions.every((f) => f.function === 'updated' && f.trigger === 'updated')).toBe(true);
  });

  it('when another stage is deployed, its functions are named for it and the first stage’s are left alone', async () => {
    fc = await new FakeFunctionCompute().start();
    await deploy('dev');
    const firstRun = fc.calls.length;
    await deploy('staging');
    const third = fc.calls.slice(firstRun);
    expect(third.filter((c) => c.method === 'PUT' && !c.path.endsWith('/async-invoke-config'))).toEqual([]);
    expect(third.every((c) => c.path === base || c.path.startsWith(`${base}/kms-staging-`))).toBe(true);
    expect(fc.functions.size).toBe(2 * (HTTP.length + JOBS.length + 1));
  });

  it('when a concurrent run creates a resource between the read and the create, it is updated instead of failing', async () => {
    fc = await new FakeFunctionCompute().start();
    const decrypt = HTTP.filter((s) => s.functionName === 'decrypt');
    await deploy('dev', { functions: decrypt, scheduled: [], provisioner: undefined });
    fc.staleGets.add(`${base}/kms-dev-decrypt`);
    fc.staleGets.add(`${base}/kms-dev-decrypt/triggers/http`);
    const before = fc.calls.length;
    const report = await deploy('dev', { functions: decrypt, scheduled: [], provisioner: undefined });
    expect(report.functions[0]).toMatchObject({ function: 'updated', trigger: 'updated' });
    expect(
      fc.calls
        .slice(before)
        .filter((c) => c.method === 'POST')
        .map((c) => c.path),
    ).toEqual([base, `${base}/kms-dev-decrypt/triggers`]);
    expect(fc.functions.size).toBe(1);
  });

  it('when a call fails mid-deployment, it stops there saying which call and FC’s code, and the same deployment run again resumes it', async () => {
    fc = await new FakeFunctionCompute().start();
    const stopAt = fnName('createKey');
    fc.fail = (call) =>
      call.method === 'POST' && call.path === base && call.body?.functionName === stopAt ? { status: 503, code: 'ServiceUnavailable' } : undefined;
    const failure = (await deploy('dev').catch((err: unknown) => err)) as FcDeployError;
    expect(failure).toBeInstanceOf(FcDeployError);
    const index = HTTP.findIndex((s) => fnName(s.functionName) === stopAt);
    expect(failure.step).toBe(`function ${stopAt}`);
    expect(failure.code).toBe('ServiceUnavailable');
    expect(failure.done.map((f) => f.functionName)).toEqual(HTTP.slice(0, index).map((s) => fnName(s.functionName)));
    expect(failure.message).toMatch(
      new RegExp(
        `^deployment stopped at function ${stopAt}: ServiceUnavailable.*; ${index} function\\(s\\) were deployed before it\\. Run the same command again to resume`,
      ),
    );
    // Nothing was attempted after the failed call.
    expect(fc.calls.at(-1)!.body?.functionName).toBe(stopAt);

    fc.fail = () => undefined;
    const resumed = await deploy('dev');
    expect(resumed.functions.slice(0, index).every((f) => f.function === 'updated' && f.trigger === 'updated')).toBe(true);
    expect(resumed.functions.slice(index).every((f) => f.function === 'created' && f.trigger === 'created')).toBe(true);
    expect(fc.functions.size).toBe(HTTP.length + JOBS.length + 1);
    expect(created().filter((b) => b.functionName === fnName('decrypt'))).toHaveLength(1);
  });

  it('when FC refuses a read for another reason than absence, the deployment stops with FC’s code and writes nothing', async () => {
    fc = await new FakeFunctionCompute().start();
    fc.fail = () => ({ status: 403, code: 'AccessDenied' });
    await expect(deploy('dev')).rejects.toMatchObject({ name: 'FcDeployError', code: 'AccessDenied', step: `function ${fnName(HTTP[0]!.functionName)}` });
    expect(fc.writes()).toEqual([]);
  });

  it('when an existing trigger of that name is of another type, the deployment stops and says to delete it', async () => {
    fc = await new FakeFunctionCompute().start();
    const decrypt = HTTP.filter((s) => s.functionName === 'decrypt');
    await deploy('dev', { functions: decrypt, scheduled: [], provisioner: undefined });
    fc.functions.get('kms-dev-decrypt')!.triggers.get('http')!.triggerType = 'timer';
    await expect(deploy('dev', { functions: decrypt, scheduled: [], provisioner: undefined })).rejects.toThrow(
      /trigger "http" is a timer trigger, not http; delete it first/,
    );
  });

  it.each([
    ['a stage that is not a plain lower-case name', { stage: 'Dev/../x' }, /stage must be 1–28 lower-case letters/],
    ['a stage too long for FC’s function names', { stage: 'a'.repeat(29) }, /stage must be 1–28/],
    ['no role for a group', { roles: { ...ROLES, 'deletes-material': '' } }, /no RAM role for "deletes-material"/],
    [
      'a database password in the environment',
      { environment: { KMS_POSTGRES_SCHEMA: 'postgres://kms:hunter2@rds.example/kms' } },
      /KMS_POSTGRES_SCHEMA holds a database password: give the functions KMS_POSTGRES_URL_SOURCE/,
    ],
    [
      'the provisioner’s access key secret in its environment',
      { environmentFor: (group: RoleGroup) => (group === 'provisioner' ? { KMS_PROVISIONER_ACCESS_KEY_SECRET: 'hunter2' } : STORE_ENV(group)) },
      /KMS_PROVISIONER_ACCESS_KEY_SECRET would put the provisioner's access key in an environment: give it KMS_PROVISIONER_SECRET=alibaba-kms-secret:<name>/,
    ],
    [
      'the provisioner’s access key id in every environment',
      { environment: { KMS_PROVISIONER_ACCESS_KEY_ID: 'LTAIhunter2' } },
      /KMS_PROVISIONER_ACCESS_KEY_ID would put the provisioner's access key in an environment/,
    ],
  ])('when given %s, it is refused before any call', async (_what, more, message) => {
    fc = await new FakeFunctionCompute().start();
    const { stage = 'dev', ...rest } = more as Partial<FcDeployOptions>;
    const failure = (await deploy(stage, rest).catch((err: unknown) => err)) as Error;
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain('hunter2');
    expect(fc.calls).toEqual([]);
  });

  it('when a table schedule is converted, rate(n unit) becomes FC’s @every in minutes and anything else is refused', () => {
    expect(cronFromRate('rate(1 hour)')).toBe('@every 60m');
    expect(cronFromRate('rate(5 minutes)')).toBe('@every 5m');
    expect(cronFromRate('rate(2 days)')).toBe('@every 2880m');
    expect(() => cronFromRate('cron(0 * * * ? *)')).toThrow(/unsupported schedule/);
    expect(() => cronFromRate('rate(0 hours)')).toThrow(/unsupported schedule/);
  });

  it('when the timeouts are declared, request functions keep short ones and the jobs have minutes', () => {
    expect(FC_DEFAULTS.requestTimeout).toBeLessThanOrEqual(10);
    expect(FC_DEFAULTS.jobTimeout).toBeGreaterThanOrEqual(300);
  });
});

describe('Roles: one RAM role per group of functions with the same needs (infra/fc/roles.ts)', () => {
  const context = {
    region: REGION,
    accountId: ACCOUNT,
    rootKeySecret: 'kms-prod-root-key',
    postgresUrlSecret: (group: RoleGroup) => (group === 'reads' ? 'kms-prod-postgres-reader' : 'kms-prod-postgres-url'),
    provisionerSecret: 'kms-prod-provisioner',
    deadLetterQueue: 'kms-prod-partitions-dlq',
    partitionRegistry: 'oss://kms-prod-partitions/partitions/',
  };

  it('when the groups are derived, each Action is in its declared store access’s group, and the dispatcher in its own', () => {
    const groups = new Map(functionSources({ actions: ACTIONS, dispatcher: DISPATCHER }).map((s) => [s.functionName, s.roleGroup]));
    for (const route of ACTIONS) expect(groups.get(route.functionName)).toBe(route.operation.store);
    expect(groups.get('dispatch')).toBe('dispatch');
    expect(new Set(groups.values())).toEqual(new Set(['reads', 'writes-state', 'creates-material', 'deletes-material', 'dispatch']));
  });

  it('when a store group’s policy is written, it may read the root key and its own PostgreSQL URL secret, and nothing else', () => {
    expect(policyFor('reads', context)).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['kms:GetSecretValue'],
          Resource: [`acs:kms:${REGION}:${ACCOUNT}:secret/kms-prod-root-key`, `acs:kms:${REGION}:${ACCOUNT}:secret/kms-prod-postgres-reader`],
        },
      ],
    });
    for (const group of ['writes-state', 'creates-material', 'deletes-material', 'dispatch'] as const) {
      expect(policyFor(group, context).Statement.flatMap((s) => s.Resource)).toEqual([
        `acs:kms:${REGION}:${ACCOUNT}:secret/kms-prod-root-key`,
        `acs:kms:${REGION}:${ACCOUNT}:secret/kms-prod-postgres-url`,
      ]);
    }
  });

  it('when the provisioner’s policy is written, it may read its own secret (its access key), send to its dead-letter queue and use the registry’s prefix, and nothing else', () => {
    const policy = policyFor('provisioner', context);
    expect(policy.Statement).toEqual([
      { Effect: 'Allow', Action: ['kms:GetSecretValue'], Resource: [`acs:kms:${REGION}:${ACCOUNT}:secret/kms-prod-provisioner`] },
      { Effect: 'Allow', Action: ['mns:SendMessage'], Resource: [`acs:mns:${REGION}:${ACCOUNT}:/queues/kms-prod-partitions-dlq/messages`] },
      { Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: [`acs:oss:*:${ACCOUNT}:kms-prod-partitions/partitions/*`] },
    ]);
    expect(JSON.stringify(policy)).not.toMatch(/root-key|postgres/);
    // No other role may read the provisioner's secret.
    for (const group of ROLE_GROUPS.filter((g) => g !== 'provisioner'))
      expect(JSON.stringify(policyFor(group, context)), group).not.toContain('kms-prod-provisioner');
  });

  it('when the functions log to a logstore, every role may write to that logstore only', () => {
    for (const group of ROLE_GROUPS) {
      expect(policyFor(group, { ...context, log: { project: 'kms-logs', logstore: 'functions' } }).Statement.at(-1)).toEqual({
        Effect: 'Allow',
        Action: ['log:PostLogStoreLogs'],
        Resource: [`acs:log:${REGION}:${ACCOUNT}:project/kms-logs/logstore/functions`],
      });
    }
  });
});

/** The entries of a zip, read from its local headers (enough for the archives zipFiles writes). */
function readZip(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let at = 0;
  while (zip.readUInt32LE(at) === 0x04034b50) {
    const method = zip.readUInt16LE(at + 8);
    const crc = zip.readUInt32LE(at + 14);
    const size = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const extraLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString('utf8');
    const start = at + 30 + nameLength + extraLength;
    const stored = zip.subarray(start, start + size);
    const data = method === 8 ? inflateRawSync(stored) : Buffer.from(stored);
    expect(crc32(data)).toBe(crc);
    expect(data.length).toBe(zip.readUInt32LE(at + 22));
    entries.set(name, data);
    at = start + size;
  }
  expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
  return entries;
}

describe('Packaging: one function bundled with esbuild (infra/fc/package.ts)', () => {
  it('when a function is bundled, the zip holds index.js, a CommonJS bundle whose fcHandler serves a request', async () => {
    const zip = await bundleFunction('functions/decrypt.ts', { root: ROOT });
    const entries = readZip(zip);
    expect([...entries.keys()]).toEqual([BUNDLE_ENTRY]);

    const dir = await mkdtemp(join(tmpdir(), 'kms-fc-bundle-'));
    await writeFile(join(dir, BUNDLE_ENTRY), entries.get(BUNDLE_ENTRY)!);
    const bundle = createRequire(join(dir, 'package.json'))(`./${BUNDLE_ENTRY}`) as { fcHandler: (event: Buffer) => Promise<FcHttpResult>; handler: unknown };
    expect(typeof bundle.handler).toBe('function');
    Object.assign(process.env, { KMS_DATA_DIR: join(dir, 'data'), KMS_LOG_LEVEL: 'silent' });
    const event = {
      version: 'v1',
      rawPath: '/',
      body: '',
      isBase64Encoded: false,
      headers: { Host: 'kms.example' },
      queryParameters: { Action: 'Decrypt', Version: '2016-01-20' },
      requestContext: { http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' } },
    };
    const result = await bundle.fcHandler(Buffer.from(JSON.stringify(event)));
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(JSON.parse(result.body)).toMatchObject({ Code: expect.any(String), RequestId: expect.any(String) });
  });

  it('when the provisioner is bundled, it reads its access key from an Alibaba Cloud KMS secret with the role’s credentials (the KMS SDK is in the bundle)', async () => {
    const entries = readZip(await bundleFunction('functions/provision-partition-keys.ts', { root: ROOT }));
    const dir = await mkdtemp(join(tmpdir(), 'kms-fc-provisioner-bundle-'));
    await writeFile(join(dir, BUNDLE_ENTRY), entries.get(BUNDLE_ENTRY)!);
    const bundle = createRequire(join(dir, 'package.json'))(`./${BUNDLE_ENTRY}`) as { fcHandler: (event: Buffer) => Promise<unknown> };
    const kms = await new FakeKmsSecrets().start();
    kms.secrets.set('kms-dev-provisioner', '{}');
    try {
      // As Function Compute runs it: the role's credentials and the region injected, the secret named by the deployment.
      vi.stubEnv('KMS_PROVISIONER_SECRET', 'alibaba-kms-secret:kms-dev-provisioner');
      vi.stubEnv('KMS_PARTITION_REGISTRY', `file:${join(dir, 'partitions')}`);
      vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'STS.role-key');
      vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'role-secret');
      vi.stubEnv('ALIBABA_CLOUD_SECURITY_TOKEN', 'role-token');
      vi.stubEnv('FC_REGION', REGION);
      vi.stubEnv('ALIBABA_CLOUD_KMS_ENDPOINT', kms.endpoint);
      await expect(bundle.fcHandler(Buffer.from(JSON.stringify({ partitionId: 'p-1' })))).rejects.toMatchObject({ code: 'ProvisionerKeyNotRegistered' });
      expect(kms.readsOf('kms-dev-provisioner')).toBe(1);
    } finally {
      vi.unstubAllEnvs();
      await kms.stop();
    }
  });

  it('when the same function is bundled twice, the zips are byte-identical', async () => {
    const [a, b] = await Promise.all([bundleFunction('functions/decrypt.ts', { root: ROOT }), bundleFunction('functions/decrypt.ts', { root: ROOT })]);
    expect(a.equals(b)).toBe(true);
  });
});

describe('Command: deploy:fc (infra/fc/main.ts)', () => {
  const credentials = {
    ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
    ALIBABA_CLOUD_REGION: REGION,
    // Nothing may be called: a closed port fails loudly if it were.
    ALIBABA_CLOUD_FC_ENDPOINT: 'http://127.0.0.1:9',
  };
  const complete = [
    '--stage',
    'dev',
    '--root-key-secret',
    'kms-dev-root-key',
    '--postgres-url-secret',
    'kms-dev-postgres-url',
    '--provisioner-secret',
    'kms-dev-provisioner',
    '--partition-queue',
    'kms-dev-partitions',
    '--partition-dead-letter-queue',
    'kms-dev-partitions-dlq',
    ...ROLE_GROUPS.flatMap((group) => ['--role', `${group}=${ROLES[group]}`]),
  ];
  const without = (flag: string, value?: string) => {
    const args = [...complete];
    const at = args.findIndex((a, i) => a === flag && (value === undefined || args[i + 1] === value));
    args.splice(at, 2);
    return args;
  };

  async function run(args: string[], env: Record<string, string> = credentials) {
    const { main } = await import('../../infra/fc/main.js');
    const out: string[] = [];
    const errors: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void errors.push(parts.join(' ')));
    try {
      return { code: await main(args, env), out: out.join('\n'), errors: errors.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it.each([
    [
      [...complete, '--env', 'KMS_POSTGRES_URL=postgres://kms:hunter2@rds/kms'],
      /KMS_POSTGRES_URL would put the database user and password in the functions’ environment/,
    ],
    [[...complete, '--env', 'KMS_ROOT_KEY_SOURCE=file:/mnt/root.key'], /KMS_ROOT_KEY_SOURCE is set by the deployment/],
    [without('--root-key-secret'), /missing --root-key-secret/],
    [
      without('--postgres-url-secret'),
      /missing --postgres-url-secret <name> \(or <group>=<name> for reads, creates-material, writes-state, deletes-material, dispatch\)/,
    ],
    [without('--role', `dispatch=${ROLES.dispatch}`), /missing --role dispatch=<arn> \(--print-policies shows what each needs\)/],
    [[...complete, '--role', `${ROLES.reads}`], /--role takes GROUP=ARN/],
    [[...complete, '--role', 'admins=acs:ram::1:role/x'], /--role: "admins" is not a group/],
    [without('--partition-queue'), /missing --partition-queue/],
    [[...complete, '--stage', 'Prod'], /--stage: stage must be 1–28 lower-case letters/],
    [without('--partition-dead-letter-queue'), /missing --partition-dead-letter-queue/],
    [without('--provisioner-secret'), /missing --provisioner-secret <name>: the provisioner reads its access key from that Alibaba Cloud KMS secret/],
    [
      [...without('--provisioner-secret'), '--provisioner-secret', 'alibaba-kms-secret:kms-dev-provisioner'],
      /--provisioner-secret takes the secret’s name alone/,
    ],
    [
      [...complete, '--env', 'KMS_PROVISIONER_ACCESS_KEY_SECRET=hunter2'],
      /KMS_PROVISIONER_ACCESS_KEY_SECRET would put the provisioner's access key in its environment: it reads the key at run time from --provisioner-secret/,
    ],
    [[...complete, '--env', 'KMS_PROVISIONER_ACCESS_KEY_ID=LTAIhunter2'], /KMS_PROVISIONER_ACCESS_KEY_ID would put the provisioner's access key/],
    [[...complete, '--env', 'KMS_PROVISIONER_SECRET=hunter2'], /KMS_PROVISIONER_SECRET is set by the deployment/],
  ])('when deployed with %j, it refuses (exit 2) before calling Function Compute, never echoing a value', async (args, message) => {
    const { code, errors } = await run(args);
    expect(code).toBe(2);
    expect(errors).toMatch(message);
    expect(errors).not.toContain('hunter2');
  });

  it('when --env pairs are given, each goes to the functions that read it: the provisioner’s to it alone, KMS_POSTGRES_* to the store functions', async () => {
    const { splitEnvironment } = await import('../../infra/fc/main.js');
    expect(
      splitEnvironment(
        [
          'KMS_LOG_LEVEL=warn',
          'KMS_POSTGRES_URL=postgres://pgm-1.pg.rds.aliyuncs.com:5432/kms?sslmode=require',
          'KMS_POSTGRES_SCHEMA=kms_prod',
          'KMS_ENDPOINT=https://kms.example.com',
          'KMS_PARTITION_REGISTRY=oss://b/partitions/',
        ],
        { region: REGION, accountId: ACCOUNT },
      ),
    ).toEqual({
      environment: { KMS_REGION: REGION, KMS_ACCOUNT_ID: ACCOUNT, KMS_LOG_LEVEL: 'warn' },
      storeEnvironment: { KMS_POSTGRES_URL: 'postgres://pgm-1.pg.rds.aliyuncs.com:5432/kms?sslmode=require', KMS_POSTGRES_SCHEMA: 'kms_prod' },
      provisionerEnvironment: {
        OSS_REGION: `oss-${REGION}`,
        KMS_ENDPOINT: 'https://kms.example.com',
        KMS_PARTITION_REGISTRY: 'oss://b/partitions/',
      },
    });
    for (const url of ['postgres://kms@rds/kms', 'postgres://kms:hunter2@rds/kms', 'not a url hunter2']) {
      expect(() => splitEnvironment([`KMS_POSTGRES_URL=${url}`], { region: REGION, accountId: ACCOUNT })).toThrow(/may give only the address/);
    }
    expect(() => splitEnvironment(['hunter2-no-name'], { region: REGION, accountId: ACCOUNT })).toThrow(
      /^--env takes KMS_NAME=value, not a value without a name$/,
    );
  });

  it('when asked to print the policies, it prints each group’s functions, trust policy and RAM policy, with no credentials and no call', async () => {
    const { code, out } = await run(
      [
        ...without('--postgres-url-secret'),
        '--postgres-url-secret',
        'kms-dev-postgres-url',
        '--postgres-url-secret',
        'reads=kms-dev-postgres-reader',
        '--print-policies',
      ],
      { ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT, ALIBABA_CLOUD_REGION: REGION },
    );
    expect(code).toBe(0);
    const listing = JSON.parse(out) as Array<{ group: string; functions: string[]; trustPolicy: any; policy: any }>;
    expect(listing.map((g) => g.group)).toEqual([...ROLE_GROUPS]);
    expect(listing.find((g) => g.group === 'reads')!.functions).toContain('kms-dev-decrypt');
    expect(listing.find((g) => g.group === 'creates-material')!.functions).toContain('kms-dev-rotateKeys');
    expect(listing.find((g) => g.group === 'provisioner')!.functions).toEqual(['kms-dev-provisionPartitionKeys']);
    expect(listing.flatMap((g) => g.functions)).toHaveLength(ACTIONS.length + 1 + SCHEDULED.length + 1);
    for (const g of listing) expect(g.trustPolicy.Statement[0].Principal.Service).toEqual(['fc.aliyuncs.com']);
    expect(listing.find((g) => g.group === 'reads')!.policy.Statement[0].Resource).toEqual([
      `acs:kms:${REGION}:${ACCOUNT}:secret/kms-dev-root-key`,
      `acs:kms:${REGION}:${ACCOUNT}:secret/kms-dev-postgres-reader`,
    ]);
    expect(listing.find((g) => g.group === 'provisioner')!.policy.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: ['kms:GetSecretValue'],
      Resource: [`acs:kms:${REGION}:${ACCOUNT}:secret/kms-dev-provisioner`],
    });
  });

  it('when a stage is deployed, the provisioner is told its secret (alibaba-kms-secret:<name>) and no function’s environment holds a provisioner key or another group’s secret', async () => {
    const fc = await new FakeFunctionCompute().start();
    try {
      const { main } = await import('../../infra/fc/main.js');
      const args = [...complete, '--endpoint', fc.url, '--env', 'KMS_ENDPOINT=https://kms.example.com', '--env', 'KMS_PARTITION_KEY_ID=alias/partitions'];
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        expect(await main(args, credentials, { codeFor: fakeCode })).toBe(0);
      } finally {
        log.mockRestore();
      }
      const bodies = fc.calls.filter((c) => c.method === 'POST' && c.path === base).map((c) => c.body);
      expect(bodies).toHaveLength(ACTIONS.length + 1 + SCHEDULED.length + 1);
      const provisioner = bodies.find((b) => b.functionName === fnName('provisionPartitionKeys'))!;
      expect(provisioner.environmentVariables).toMatchObject({
        KMS_PROVISIONER_SECRET: 'alibaba-kms-secret:kms-dev-provisioner',
        KMS_ENDPOINT: 'https://kms.example.com',
        KMS_PARTITION_KEY_ID: 'alias/partitions',
      });
      for (const body of bodies) {
        const names = Object.keys(body.environmentVariables);
        expect(
          names.filter((n) => /^KMS_PROVISIONER_ACCESS_KEY/.test(n)),
          body.functionName,
        ).toEqual([]);
        if (body !== provisioner) expect(names, body.functionName).not.toContain('KMS_PROVISIONER_SECRET');
        else expect(names.filter((n) => /ROOT_KEY|POSTGRES/.test(n))).toEqual([]);
      }
    } finally {
      await fc.stop();
    }
  });

  it('when Function Compute refuses the first call, the command exits 1 with the step and FC’s code', async () => {
    const fc = await new FakeFunctionCompute().start();
    fc.fail = () => ({ status: 403, code: 'AccessDenied' });
    try {
      const { code, errors } = await run([...complete, '--endpoint', fc.url]);
      expect(code).toBe(1);
      expect(errors).toMatch(/^deployment stopped at function kms-dev-generateDataKey: AccessDenied/);
      expect(fc.calls.map((c) => [c.method, c.path])).toEqual([['GET', `${base}/kms-dev-generateDataKey`]]);
    } finally {
      await fc.stop();
    }
  });
});
