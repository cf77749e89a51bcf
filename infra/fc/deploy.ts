import type FCClient from '@alicloud/fc2';

/** The FC API calls a deployment makes (a real `FCClient` is one). */
export type FcApi = Pick<
  FCClient,
  'getService' | 'createService' | 'updateService' | 'getFunction' | 'createFunction' | 'updateFunction' | 'getTrigger' | 'createTrigger' | 'updateTrigger'
>;

/** A function to deploy: its name in the service and the source file bundled as its code. */
export interface FcFunctionSource {
  functionName: string;
  file: string;
}

/** A scheduled job (not an RPC Action): a timer trigger instead of an HTTP one. */
export interface FcScheduledSource extends FcFunctionSource {
  /** As functions/actions.ts and serverless.yml write it: `rate(<n> minute|minutes|hour|hours|day|days)`. */
  schedule: string;
}

/** A code package, inline: the zip, Base64 (the fc2 `code.zipFile` field). */
export interface FcCode {
  zipFile: string;
}

/** The defaults of a Function Compute deployment, declared once. */
export const FC_DEFAULTS = {
  /** The newest Node.js runtime Function Compute offers. */
  runtime: 'nodejs20',
  memorySize: 512,
  /** Seconds. */
  timeout: 10,
  /** Bundles are zipped as index.js (infra/fc/package.ts); RPC and event-triggered functions export `fcHandler`. */
  httpHandler: 'index.fcHandler',
  /** Scheduled jobs export `handler` (an FC event handler, like a Lambda one). */
  scheduledHandler: 'index.handler',
  httpTriggerName: 'http',
  timerTriggerName: 'schedule',
  environment: {
    // Every instance shares one consistent state in PostgreSQL (ApsaraDB RDS): keys, aliases,
    // access keys and used nonces. An instance's own disk is neither shared nor kept, and a NAS
    // journal would not make nonce claims atomic across hosts; a function given no shared backend
    // refuses to start (lib/config/service.ts) rather than accept replays.
    KMS_KEY_STORE: 'postgres',
    KMS_LOG_LEVEL: 'info',
  },
} as const;

export interface FcDeployOptions {
  client: FcApi;
  /** dev, staging, prod…: the service is `kms-<stage>`. */
  stage: string;
  /** One function per RPC Action, each behind an HTTP trigger (functions/actions.ts ACTIONS). */
  functions: readonly FcFunctionSource[];
  /** Timer-triggered jobs (functions/actions.ts SCHEDULED). */
  scheduled?: readonly FcScheduledSource[];
  /**
   * Event-triggered functions (functions/actions.ts EVENT_TRIGGERED: the partition-key provisioner),
   * deployed with their `fcHandler` and no trigger: the event source (an EventBridge rule, an MNS
   * queue) is the operator's to attach, since it names resources outside this service.
   */
  eventTriggered?: readonly FcFunctionSource[];
  /** The code package of one function (tests pass tiny fakes; the CLI bundles with esbuild). */
  codeFor: (source: FcFunctionSource) => FcCode | Promise<FcCode>;
  /** Environment variables of every function, over {@link FC_DEFAULTS}.environment. */
  environment?: Readonly<Record<string, string>>;
  /** More service configuration (role, nasConfig, vpcConfig, logConfig…), sent on create and update. */
  service?: Readonly<Record<string, unknown>>;
  memorySize?: number;
  timeout?: number;
  log?: (message: string) => void;
}

export type Outcome = 'created' | 'updated';

export interface FcDeployReport {
  serviceName: string;
  service: Outcome;
  functions: Array<{ functionName: string; function: Outcome; trigger?: Outcome; triggerType: 'http' | 'timer' | 'event'; url?: string }>;
}

const STAGE = /^[a-z][a-z0-9-]{0,40}$/;

export function serviceNameFor(stage: string): string {
  if (!STAGE.test(stage)) throw new Error(`stage must be lower-case letters, digits and hyphens, starting with a letter, not "${stage}"`);
  return `kms-${stage}`;
}

/**
 * Deploys one stage to Function Compute: the service `kms-<stage>`, a function per Action with an
 * HTTP trigger, a function per scheduled job with a timer trigger. Idempotent: each resource is
 * read first and updated when it exists, created when it does not (and updated after all when a
 * concurrent run created it in between), so running it again converges instead of failing.
 */
export async function deployToFunctionCompute(options: FcDeployOptions): Promise<FcDeployReport> {
  const { client } = options;
  const log = options.log ?? (() => {});
  const serviceName = serviceNameFor(options.stage);
  const serviceConfig = { description: `KMS (Alibaba KMS API 2016-01-20), stage ${options.stage}`, internetAccess: true, ...options.service };
  const service = await upsert(
    () => client.getService(serviceName),
    () => client.createService(serviceName, { ...serviceConfig }),
    () => client.updateService(serviceName, { ...serviceConfig }),
  );
  log(`service ${serviceName}: ${service}`);

  const environmentVariables = { ...FC_DEFAULTS.environment, ...options.environment };
  const report: FcDeployReport = { serviceName, service, functions: [] };
  const deploy = async (source: FcFunctionSource, handler: string, trigger: TriggerSpec | undefined) => {
    const config = {
      description: `KMS ${source.functionName} (${options.stage})`,
      runtime: FC_DEFAULTS.runtime,
      handler,
      memorySize: options.memorySize ?? FC_DEFAULTS.memorySize,
      timeout: options.timeout ?? FC_DEFAULTS.timeout,
      environmentVariables,
      code: await options.codeFor(source),
    };
    const fn = await upsert(
      () => client.getFunction(serviceName, source.functionName),
      () => client.createFunction(serviceName, { functionName: source.functionName, ...config }),
      () => client.updateFunction(serviceName, source.functionName, { ...config }),
    );
    if (!trigger) {
      log(`function ${serviceName}/${source.functionName}: ${fn} (attach its event trigger)`);
      report.functions.push({ functionName: source.functionName, function: fn, triggerType: 'event' });
      return;
    }
    let url: string | undefined;
    const remember = (response: { data?: { urlInternet?: string } }) => {
      url = response?.data?.urlInternet;
    };
    const triggerOutcome = await upsert(
      () => client.getTrigger(serviceName, source.functionName, trigger.triggerName),
      () => client.createTrigger(serviceName, source.functionName, { ...trigger }).then(remember),
      (existing) => {
        const existingType = existing?.data?.triggerType;
        if (existingType !== undefined && existingType !== trigger.triggerType) {
          throw new Error(
            `${serviceName}/${source.functionName}: trigger "${trigger.triggerName}" is a ${existingType} trigger, not ${trigger.triggerType}; delete it first`,
          );
        }
        // The type and name of a trigger are fixed once created; only its configuration changes.
        return client.updateTrigger(serviceName, source.functionName, trigger.triggerName, { triggerConfig: trigger.triggerConfig }).then(remember);
      },
    );
    log(`function ${serviceName}/${source.functionName}: ${fn}, ${trigger.triggerType} trigger: ${triggerOutcome}${url ? ` (${url})` : ''}`);
    report.functions.push({
      functionName: source.functionName,
      function: fn,
      trigger: triggerOutcome,
      triggerType: trigger.triggerType,
      ...(url ? { url } : {}),
    });
  };

  for (const source of options.functions) await deploy(source, FC_DEFAULTS.httpHandler, httpTrigger());
  for (const job of options.scheduled ?? []) await deploy(job, FC_DEFAULTS.scheduledHandler, timerTrigger(job.schedule));
  for (const source of options.eventTriggered ?? []) await deploy(source, FC_DEFAULTS.httpHandler, undefined);
  return report;
}

interface TriggerSpec {
  triggerName: string;
  triggerType: 'http' | 'timer';
  triggerConfig: Record<string, unknown>;
}

/**
 * Anonymous on purpose. FC's own trigger authentication ("function") would demand an FC signature
 * in the Authorization header — the header an ACS3-HMAC-SHA256 KMS request already uses for its own
 * signature, and which no KMS client can produce. The service authenticates every request itself
 * (RPC HMAC-SHA1 or ACS3-HMAC-SHA256 against its access keys, timestamp window, nonce replay) before
 * any operation runs, so an anonymous trigger exposes nothing an unauthenticated caller can use.
 * GET and POST are the methods the RPC and V3 styles use.
 */
function httpTrigger(): TriggerSpec {
  return { triggerName: FC_DEFAULTS.httpTriggerName, triggerType: 'http', triggerConfig: { authType: 'anonymous', methods: ['GET', 'POST'] } };
}

function timerTrigger(schedule: string): TriggerSpec {
  return { triggerName: FC_DEFAULTS.timerTriggerName, triggerType: 'timer', triggerConfig: { cronExpression: cronFromRate(schedule), enable: true } };
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const MINUTES: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };

/** `rate(1 hour)` → `@every 60m`, FC's interval form of a timer trigger's cronExpression. */
export function cronFromRate(schedule: string): string {
  const match = RATE.exec(schedule);
  if (!match || Number(match[1]) < 1) throw new Error(`unsupported schedule "${schedule}": expected rate(<n> minute(s)|hour(s)|day(s))`);
  return `@every ${Number(match[1]) * MINUTES[match[2]!]!}m`;
}

/** Read; update when it exists; create when it does not — and update if someone created it meanwhile. */
async function upsert<T>(get: () => Promise<T>, create: () => Promise<unknown>, update: (existing: T) => Promise<unknown>): Promise<Outcome> {
  let existing: T;
  try {
    existing = await get();
  } catch (err) {
    if (!hasErrorCode(err, /NotFound$/)) throw err;
    try {
      await create();
      return 'created';
    } catch (createErr) {
      if (!hasErrorCode(createErr, /AlreadyExists$/)) throw createErr;
      existing = await get();
    }
  }
  await update(existing);
  return 'updated';
}

/** fc2 rejects with FC's ErrorCode (ServiceNotFound, FunctionAlreadyExists…) as `code`. */
function hasErrorCode(err: unknown, pattern: RegExp): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && pattern.test(code);
}
