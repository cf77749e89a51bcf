import type fc3 from '@alicloud/fc20230330';
import {
  CreateFunctionInput,
  CreateFunctionRequest,
  CreateTriggerInput,
  CreateTriggerRequest,
  GetFunctionRequest,
  PutAsyncInvokeConfigInput,
  PutAsyncInvokeConfigRequest,
  UpdateFunctionInput,
  UpdateFunctionRequest,
  UpdateTriggerInput,
  UpdateTriggerRequest,
} from '@alicloud/fc20230330';
import { type FcFunctionSource, opensStore, type RoleGroup } from './roles.js';
import { asyncInvokeConfig, httpTrigger, type PartitionEventQueues, partitionEventsTrigger, type TriggerSpec, timerTrigger } from './triggers.js';

export { cronFromRate } from './triggers.js';
export type { FcFunctionSource } from './roles.js';

/** `@alicloud/fc20230330`'s client (a CommonJS module: its class is the `default` of what Node imports). */
export type FcClient = InstanceType<typeof fc3.default>;

/** The FC 3.0 API calls a deployment makes (an {@link FcClient} is one). */
export type FcApi = Pick<
  FcClient,
  'getFunction' | 'createFunction' | 'updateFunction' | 'getTrigger' | 'createTrigger' | 'updateTrigger' | 'putAsyncInvokeConfig'
>;

/** A scheduled job (not an RPC Action): a timer trigger instead of an HTTP one. */
export interface FcScheduledSource extends FcFunctionSource {
  /** As functions/actions.ts and serverless.yml write it: `rate(<n> minute|minutes|hour|hours|day|days)`. */
  schedule: string;
}

/** A code package, inline: the zip, Base64 (FC's `code.zipFile`). */
export interface FcCode {
  zipFile: string;
}

/** The defaults of a Function Compute deployment, declared once. */
export const FC_DEFAULTS = {
  /** The newest Node.js runtime Function Compute offers. */
  runtime: 'nodejs20',
  memorySize: 512,
  /**
   * Seconds. A request function answers 503 itself one second before its timeout (FC's context
   * states the timeout: lib/adapters/alibaba-fc/), so a client never waits on a platform error.
   */
  requestTimeout: 10,
  /** The hourly jobs walk every key: as on AWS, minutes rather than seconds. */
  jobTimeout: 300,
  /** One partition event: a GenerateDataKey and a registry write, with retries. */
  provisionerTimeout: 60,
  /** Bundles are zipped as index.js (infra/fc/package.ts); RPC and event-triggered functions export `fcHandler`. */
  httpHandler: 'index.fcHandler',
  /** Scheduled jobs export `handler` (an FC event handler, like a Lambda one). */
  scheduledHandler: 'index.handler',
  /** The store functions' environment: PostgreSQL (ApsaraDB RDS) is the one state every instance shares. */
  storeEnvironment: {
    // An instance's own disk is neither shared nor kept, and a NAS journal would not make nonce
    // claims atomic across hosts; a function given no shared backend refuses to start
    // (lib/config/service.ts) rather than accept replays.
    KMS_KEY_STORE: 'postgres',
  },
  environment: { KMS_LOG_LEVEL: 'info' },
} as const;

export interface FcDeployOptions {
  client: FcApi;
  /** dev, staging, prod…: every function is named `kms-<stage>-<function>`. */
  stage: string;
  /** One function per RPC Action (and the dispatcher), each behind an HTTP trigger. */
  functions: readonly FcFunctionSource[];
  /** Timer-triggered jobs (functions/actions.ts SCHEDULED). */
  scheduled?: readonly FcScheduledSource[];
  /** The partition-key provisioner, triggered by its MNS queue, failures to the dead-letter queue. */
  provisioner?: { source: FcFunctionSource; queues: PartitionEventQueues };
  /** The RAM role (ARN) of each role group deployed; checked before anything is called. */
  roles: Readonly<Partial<Record<RoleGroup, string>>>;
  /** The code package of one function (tests pass tiny fakes; the CLI bundles with esbuild). */
  codeFor: (source: FcFunctionSource) => FcCode | Promise<FcCode>;
  /** Environment of every function, over {@link FC_DEFAULTS}.environment. */
  environment?: Readonly<Record<string, string>>;
  /** Environment of the functions of one role group only (a store group's URL secret; the provisioner's settings). */
  environmentFor?: (group: RoleGroup) => Readonly<Record<string, string>>;
  /** More function configuration (vpcConfig, logConfig, internetAccess…), sent on create and update. */
  functionConfig?: Readonly<Record<string, unknown>>;
  memorySize?: number;
  log?: (message: string) => void;
}

export type Outcome = 'created' | 'updated';

export interface FcDeployedFunction {
  functionName: string;
  function: Outcome;
  role: string;
  trigger: Outcome;
  triggerType: TriggerSpec['triggerType'];
}

export interface FcDeployReport {
  functions: FcDeployedFunction[];
}

/**
 * A deployment that stopped: which call failed (FC's code), and what was done before it. Running
 * the same deployment again resumes it: every resource is read first, so what exists is updated in
 * place and the rest is created.
 */
export class FcDeployError extends Error {
  override readonly name = 'FcDeployError';
  constructor(
    readonly step: string,
    readonly code: string | undefined,
    readonly done: readonly FcDeployedFunction[],
    cause: unknown,
  ) {
    const said = cause instanceof Error ? cause.message : String(cause);
    super(
      `deployment stopped at ${step}: ${code && !said.startsWith(code) ? `${code}: ` : ''}${said.slice(0, 400)}; ${done.length} function(s) were deployed before it. Run the same command again to resume: what exists is updated, the rest created.`,
      { cause },
    );
  }
}

const STAGE = /^[a-z][a-z0-9-]{0,27}$/;

/** A function's name in FC (names are per account and region, so the stage is part of it). */
export function fcFunctionName(stage: string, functionName: string): string {
  if (!STAGE.test(stage)) throw new Error(`stage must be 1–28 lower-case letters, digits and hyphens, starting with a letter, not "${stage.slice(0, 40)}"`);
  return `kms-${stage}-${functionName}`;
}

/** A PostgreSQL URL with a password: never in a function's environment (use KMS_POSTGRES_URL_SOURCE). */
const URL_WITH_PASSWORD = /\bpostgres(?:ql)?:\/\/[^/@\s]*:[^/@\s]*@/i;

/** The provisioner's access key: never in a function's environment (it reads KMS_PROVISIONER_SECRET at run time). */
export const PROVISIONER_KEY_VARIABLES: readonly string[] = ['KMS_PROVISIONER_ACCESS_KEY_ID', 'KMS_PROVISIONER_ACCESS_KEY_SECRET'];

/**
 * Deploys one stage to Function Compute 3.0: a function per Action (and the dispatcher) behind an
 * internal HTTP trigger, a function per scheduled job with a timer trigger, the partition-key
 * provisioner with its MNS event source and dead-letter queue; each function with its role
 * group's RAM role. Idempotent: each resource is read first and updated when it exists, created
 * when it does not (and updated after all when a concurrent run created it in between). A failed
 * call stops the deployment with an {@link FcDeployError}; running it again resumes.
 */
export async function deployToFunctionCompute(options: FcDeployOptions): Promise<FcDeployReport> {
  const { client, stage } = options;
  const log = options.log ?? (() => {});
  type Planned = { source: FcFunctionSource; handler: string; timeout: number; trigger: TriggerSpec; async?: PartitionEventQueues };
  const planned: Planned[] = [
    ...options.functions.map((source) => ({ source, handler: FC_DEFAULTS.httpHandler, timeout: FC_DEFAULTS.requestTimeout, trigger: httpTrigger() })),
    ...(options.scheduled ?? []).map((job) => ({
      source: job,
      handler: FC_DEFAULTS.scheduledHandler,
      timeout: FC_DEFAULTS.jobTimeout,
      trigger: timerTrigger(job.schedule),
    })),
    ...(options.provisioner
      ? [
          {
            source: options.provisioner.source,
            handler: FC_DEFAULTS.httpHandler,
            timeout: FC_DEFAULTS.provisionerTimeout,
            trigger: partitionEventsTrigger(options.provisioner.queues),
            async: options.provisioner.queues,
          },
        ]
      : []),
  ];

  // Everything that can be checked is checked before the first call.
  for (const { source } of planned) fcFunctionName(stage, source.functionName);
  const missing = [...new Set(planned.map((p) => p.source.roleGroup))].filter((group) => !options.roles[group]);
  if (missing.length > 0) throw new Error(`no RAM role for ${missing.map((g) => `"${g}"`).join(', ')}: every function runs with its group's role`);
  const environmentOf = (group: RoleGroup) => {
    const environment = {
      ...FC_DEFAULTS.environment,
      ...(opensStore(group) ? FC_DEFAULTS.storeEnvironment : {}),
      ...options.environment,
      ...options.environmentFor?.(group),
    };
    const leaking = Object.entries(environment).find(([, value]) => URL_WITH_PASSWORD.test(value));
    if (leaking) throw new Error(`${leaking[0]} holds a database password: give the functions KMS_POSTGRES_URL_SOURCE=alibaba-kms-secret:<name> instead`);
    const key = PROVISIONER_KEY_VARIABLES.find((name) => name in environment);
    if (key)
      throw new Error(`${key} would put the provisioner's access key in an environment: give it KMS_PROVISIONER_SECRET=alibaba-kms-secret:<name> instead`);
    return environment;
  };
  for (const { source } of planned) environmentOf(source.roleGroup);

  const report: FcDeployReport = { functions: [] };
  const step = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof FcDeployError) throw err;
      throw new FcDeployError(what, errorCode(err), [...report.functions], err);
    }
  };

  for (const { source, handler, timeout, trigger, async } of planned) {
    const name = fcFunctionName(stage, source.functionName);
    const role = options.roles[source.roleGroup]!;
    const config = {
      ...options.functionConfig,
      description: `KMS ${source.functionName} (${stage})`,
      runtime: FC_DEFAULTS.runtime,
      handler,
      memorySize: options.memorySize ?? FC_DEFAULTS.memorySize,
      timeout,
      role,
      environmentVariables: environmentOf(source.roleGroup),
      code: await options.codeFor(source),
    };
    const fn = await step(`function ${name}`, () =>
      upsert(
        () => client.getFunction(name, new GetFunctionRequest({})),
        () => client.createFunction(new CreateFunctionRequest({ body: new CreateFunctionInput({ functionName: name, ...config }) })),
        () => client.updateFunction(name, new UpdateFunctionRequest({ body: new UpdateFunctionInput({ ...config }) })),
      ),
    );
    if (async) {
      // Before the trigger, so that the first event already has its retries and dead-letter queue.
      await step(`async invocation config of ${name}`, () =>
        client.putAsyncInvokeConfig(name, new PutAsyncInvokeConfigRequest({ body: new PutAsyncInvokeConfigInput(asyncInvokeConfig(async)) })),
      );
    }
    const triggerConfig = JSON.stringify(trigger.triggerConfig);
    const triggerOutcome = await step(`${trigger.triggerType} trigger of ${name}`, () =>
      upsert(
        () => client.getTrigger(name, trigger.triggerName),
        () =>
          client.createTrigger(
            name,
            new CreateTriggerRequest({ body: new CreateTriggerInput({ triggerName: trigger.triggerName, triggerType: trigger.triggerType, triggerConfig }) }),
          ),
        (existing) => {
          const existingType = existing?.body?.triggerType;
          if (existingType !== undefined && existingType !== trigger.triggerType) {
            throw new Error(`${name}: trigger "${trigger.triggerName}" is a ${existingType} trigger, not ${trigger.triggerType}; delete it first`);
          }
          // The type and name of a trigger are fixed once created; only its configuration changes.
          return client.updateTrigger(name, trigger.triggerName, new UpdateTriggerRequest({ body: new UpdateTriggerInput({ triggerConfig }) }));
        },
      ),
    );
    log(`${name}: function ${fn}, ${trigger.triggerType} trigger ${triggerOutcome}, role ${role}`);
    report.functions.push({ functionName: name, function: fn, role, trigger: triggerOutcome, triggerType: trigger.triggerType });
  }
  return report;
}

/** Read; update when it exists; create when it does not — and update if someone created it meanwhile. */
async function upsert<T>(get: () => Promise<T>, create: () => Promise<unknown>, update: (existing: T) => Promise<unknown>): Promise<Outcome> {
  let existing: T;
  try {
    existing = await get();
  } catch (err) {
    if (!/NotFound$/.test(errorCode(err) ?? '')) throw err;
    try {
      await create();
      return 'created';
    } catch (createErr) {
      if (!/AlreadyExists$/.test(errorCode(createErr) ?? '')) throw createErr;
      existing = await get();
    }
  }
  await update(existing);
  return 'updated';
}

/** The SDK rejects with FC's error code (FunctionNotFound, TriggerAlreadyExists…) as `code`. */
function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
