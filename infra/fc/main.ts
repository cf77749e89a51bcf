import fc3 from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ACTIONS, DISPATCHER, EVENT_TRIGGERED, SCHEDULED } from '../../functions/actions.js';
import { PROVISIONER_ENV } from '../../lib/provisioner/from-environment.js';
import {
  deployToFunctionCompute,
  type FcClient,
  type FcDeployOptions,
  FcDeployError,
  type FcScheduledSource,
  fcFunctionName,
  PROVISIONER_KEY_VARIABLES,
} from './deploy.js';
import { bundleFunction } from './package.js';
import { FC_TRUST_POLICY, type FcFunctionSource, functionSources, opensStore, type PolicyContext, policyFor, ROLE_GROUPS, type RoleGroup } from './roles.js';

/** Set by the deployment from its parameters; never through --env. */
const DERIVED_ENV = ['KMS_KEY_STORE', 'KMS_ROOT_KEY_SOURCE', 'KMS_POSTGRES_URL_SOURCE', PROVISIONER_ENV.secret];
/** The provisioner's own settings (never its access key, never its secret's name: both are refused in --env). */
const PROVISIONER_ONLY: readonly string[] = Object.values(PROVISIONER_ENV).filter(
  (name) => !DERIVED_ENV.includes(name) && !PROVISIONER_KEY_VARIABLES.includes(name),
);

const USAGE = `Deploys one stage to Alibaba Cloud Function Compute 3.0 (docs/deploy-alibaba.md).

  npm run deploy:fc -- --stage prod \\
      --root-key-secret kms-prod-root-key --postgres-url-secret kms-prod-postgres-url \\
      --provisioner-secret kms-prod-provisioner \\
      --partition-queue kms-prod-partitions --partition-dead-letter-queue kms-prod-partitions-dlq \\
      --role reads=acs:ram::<account>:role/kms-prod-reads --role writes-state=… --role creates-material=… \\
      --role deletes-material=… --role dispatch=… --role provisioner=… \\
      [--function-config fc-function.json] [--env KMS_NAME=value]... [--endpoint URL]

  npm run deploy:fc -- --stage prod --root-key-secret … --postgres-url-secret … \\
      --provisioner-secret … --partition-dead-letter-queue … --print-policies      # each role's functions, trust and RAM policy; calls nothing

--root-key-secret       the Alibaba Cloud KMS secret holding the root key (KMS_ROOT_KEY_SOURCE).
--postgres-url-secret   the secret whose text is the PostgreSQL URL (KMS_POSTGRES_URL_SOURCE): NAME for
                        every store group, GROUP=NAME for one (its own database user). The password is
                        never in a function's environment.
--provisioner-secret    the secret holding the provisioner's access key (KMS_PROVISIONER_SECRET), which
                        \`kms access-keys create-provisioner --secret alibaba-kms-secret:NAME\` writes;
                        create it holding {} first. Its role may read that secret only.
--role GROUP=ARN        the RAM role of each group: ${ROLE_GROUPS.join(', ')}.
--partition-queue, --partition-dead-letter-queue
                        the provisioner's MNS queues: partition events in; events that keep failing out.
--function-config       more function settings as FC 3.0 takes them (vpcConfig to reach RDS, logConfig),
                        sent on create and update.
--env KMS_NAME=value    more environment; ${PROVISIONER_ONLY.join(', ')}
                        go to the provisioner only (never its access key), KMS_POSTGRES_* to the store functions only
                        (KMS_POSTGRES_URL: the address alone, when the URL secret holds an RDS account).

Reads ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_REGION, ALIBABA_CLOUD_ACCESS_KEY_ID,
ALIBABA_CLOUD_ACCESS_KEY_SECRET, optionally ALIBABA_CLOUD_SECURITY_TOKEN (STS) and
ALIBABA_CLOUD_FC_ENDPOINT (the FC API endpoint; --endpoint overrides it).`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What the command uses beyond its arguments (tests deploy fake code). */
interface Dependencies {
  codeFor?: FcDeployOptions['codeFor'];
}

/** The `deploy:fc` command. Returns the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, dependencies: Dependencies = {}): Promise<number> {
  try {
    return await run(argv, env, dependencies);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof FcDeployError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv, dependencies: Dependencies): Promise<number> {
  const values = parseOptions(argv);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const site = ['ALIBABA_CLOUD_ACCOUNT_ID', 'ALIBABA_CLOUD_REGION'] as const;
  const credentials = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] as const;
  const missingEnv = [...site, ...(values['print-policies'] ? [] : credentials)].filter((name) => !env[name]);
  if (missingEnv.length > 0) throw new UsageError(`missing environment: ${missingEnv.join(', ')}`);
  const accountId = env.ALIBABA_CLOUD_ACCOUNT_ID!;
  const region = env.ALIBABA_CLOUD_REGION!;
  try {
    fcFunctionName(values.stage, 'any');
  } catch (err) {
    throw new UsageError(`--stage: ${(err as Error).message}`);
  }

  const { environment, storeEnvironment, provisionerEnvironment } = splitEnvironment(values.env, { region, accountId });

  const rootKeySecret = values['root-key-secret'];
  if (!rootKeySecret) throw new UsageError('missing --root-key-secret <name>: the functions read the root key from that Alibaba Cloud KMS secret');
  const urlSecrets = parseGroupValues(values['postgres-url-secret'], '--postgres-url-secret');
  const defaultUrlSecret = urlSecrets.get(undefined);
  const postgresUrlSecret = (group: RoleGroup) => urlSecrets.get(group) ?? defaultUrlSecret;
  const sources = functionSources({ actions: ACTIONS, dispatcher: DISPATCHER });
  const scheduled: FcScheduledSource[] = SCHEDULED.map((job) => ({
    functionName: job.functionName,
    file: job.file,
    roleGroup: job.store,
    schedule: job.schedule,
  }));
  const provisioner: FcFunctionSource = { ...EVENT_TRIGGERED[0]!, roleGroup: 'provisioner' };
  const all = [...sources, ...scheduled, provisioner];
  const storeGroups = [...new Set(all.map((s) => s.roleGroup).filter(opensStore))];
  const withoutUrl = storeGroups.filter((group) => !postgresUrlSecret(group));
  if (withoutUrl.length > 0) {
    throw new UsageError(
      `missing --postgres-url-secret <name> (or <group>=<name> for ${withoutUrl.join(', ')}): the functions read the PostgreSQL URL from it`,
    );
  }
  const provisionerSecret = values['provisioner-secret'];
  if (!provisionerSecret) {
    throw new UsageError(
      'missing --provisioner-secret <name>: the provisioner reads its access key from that Alibaba Cloud KMS secret (kms access-keys create-provisioner writes it)',
    );
  }
  if (provisionerSecret.includes(':')) throw new UsageError('--provisioner-secret takes the secret’s name alone (the deployment adds alibaba-kms-secret:)');
  const deadLetterQueue = values['partition-dead-letter-queue'];
  if (!deadLetterQueue) throw new UsageError('missing --partition-dead-letter-queue <mns-queue>: where partition events that keep failing go');

  const policyContext: PolicyContext = {
    region,
    accountId,
    rootKeySecret,
    postgresUrlSecret: (group) => postgresUrlSecret(group)!,
    provisionerSecret,
    deadLetterQueue,
    ...(provisionerEnvironment[PROVISIONER_ENV.registry] ? { partitionRegistry: provisionerEnvironment[PROVISIONER_ENV.registry] } : {}),
  };
  const functionConfig = values['function-config'] ? (JSON.parse(await readFile(values['function-config'], 'utf8')) as Record<string, unknown>) : undefined;
  const logConfig = functionConfig?.logConfig as { project?: string; logstore?: string } | undefined;
  if (logConfig?.project && logConfig.logstore) policyContext.log = { project: logConfig.project, logstore: logConfig.logstore };

  if (values['print-policies']) {
    const groups = ROLE_GROUPS.filter((group) => all.some((s) => s.roleGroup === group));
    const listing = groups.map((group) => ({
      group,
      functions: all.filter((s) => s.roleGroup === group).map((s) => fcFunctionName(values.stage, s.functionName)),
      trustPolicy: FC_TRUST_POLICY,
      policy: policyFor(group, policyContext),
    }));
    console.log(JSON.stringify(listing, null, 2));
    return 0;
  }

  const roles = parseGroupValues(values.role, '--role');
  if (roles.has(undefined)) throw new UsageError('--role takes GROUP=ARN: every group has its own role');
  const groupsWithoutRole = [...new Set(all.map((s) => s.roleGroup))].filter((group) => !roles.get(group));
  if (groupsWithoutRole.length > 0) {
    throw new UsageError(`missing --role ${groupsWithoutRole.map((g) => `${g}=<arn>`).join(' --role ')} (--print-policies shows what each needs)`);
  }
  const queue = values['partition-queue'];
  if (!queue) throw new UsageError('missing --partition-queue <mns-queue>: the provisioner’s event source');

  const client = fcClient(env, values.endpoint ?? env.ALIBABA_CLOUD_FC_ENDPOINT);
  const root = packageRoot(fileURLToPath(import.meta.url));
  const report = await deployToFunctionCompute({
    client,
    stage: values.stage,
    // The dispatcher backs the API gateway's catch-all route: requests whose Action is only in a form body.
    functions: sources,
    scheduled,
    provisioner: { source: provisioner, queues: { region, accountId, queue, deadLetterQueue } },
    roles: Object.fromEntries([...roles].filter(([group]) => group !== undefined)) as Partial<Record<RoleGroup, string>>,
    codeFor: dependencies.codeFor ?? (async (source) => ({ zipFile: (await bundleFunction(source.file, { root })).toString('base64') })),
    environment,
    environmentFor: (group) =>
      opensStore(group)
        ? {
            ...storeEnvironment,
            KMS_ROOT_KEY_SOURCE: `alibaba-kms-secret:${rootKeySecret}`,
            KMS_POSTGRES_URL_SOURCE: `alibaba-kms-secret:${postgresUrlSecret(group)}`,
          }
        : { ...provisionerEnvironment, [PROVISIONER_ENV.secret]: `alibaba-kms-secret:${provisionerSecret}` },
    ...(functionConfig ? { functionConfig } : {}),
    log: (message) => console.log(message),
  });
  console.log(`deployed ${report.functions.length} functions of stage ${values.stage}`);
  return 0;
}

const OPTIONS = {
  stage: { type: 'string', default: 'dev' },
  endpoint: { type: 'string' },
  'function-config': { type: 'string' },
  'root-key-secret': { type: 'string' },
  'postgres-url-secret': { type: 'string', multiple: true, default: [] as string[] },
  'provisioner-secret': { type: 'string' },
  role: { type: 'string', multiple: true, default: [] as string[] },
  'partition-queue': { type: 'string' },
  'partition-dead-letter-queue': { type: 'string' },
  env: { type: 'string', multiple: true, default: [] as string[] },
  'print-policies': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} satisfies ParseArgsConfig['options'];

function parseOptions(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The `--env` pairs, each to the functions that read it: the provisioner's settings to the
 * provisioner only, KMS_POSTGRES_* to the store functions only, the rest to all. Never a database
 * user or password, never the provisioner's access key (both are read from secrets at run time);
 * never a variable the deployment sets itself.
 */
export function splitEnvironment(pairs: readonly string[], site: { region: string; accountId: string }) {
  const environment: Record<string, string> = { KMS_REGION: site.region, KMS_ACCOUNT_ID: site.accountId };
  const provisionerEnvironment: Record<string, string> = { OSS_REGION: `oss-${site.region}` };
  const storeEnvironment: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    // Only the name part is ever echoed: the value may be a secret.
    const name = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^KMS_[A-Z0-9_]+$/.test(name)) throw new UsageError(`--env takes KMS_NAME=value, not ${name ? `"${name.slice(0, 40)}=…"` : 'a value without a name'}`);
    const value = pair.slice(eq + 1);
    if (name === 'KMS_POSTGRES_URL' && !isAddressOnly(value)) {
      throw new UsageError(
        'KMS_POSTGRES_URL would put the database user and password in the functions’ environment: store the URL (or a KMS-managed RDS secret) in an Alibaba Cloud KMS secret and pass --postgres-url-secret <name>; KMS_POSTGRES_URL may give only the address (postgres://host:5432/database)',
      );
    }
    if (PROVISIONER_KEY_VARIABLES.includes(name)) {
      throw new UsageError(
        `${name} would put the provisioner's access key in its environment: it reads the key at run time from --provisioner-secret <name> (write it with kms access-keys create-provisioner --secret alibaba-kms-secret:<name>)`,
      );
    }
    if (DERIVED_ENV.includes(name)) {
      throw new UsageError(`${name} is set by the deployment (--root-key-secret, --postgres-url-secret, --provisioner-secret), not by --env`);
    }
    const target = PROVISIONER_ONLY.includes(name) ? provisionerEnvironment : name.startsWith('KMS_POSTGRES_') ? storeEnvironment : environment;
    target[name] = value;
  }
  return { environment, storeEnvironment, provisionerEnvironment };
}

/** A PostgreSQL URL naming neither user nor password. */
function isAddressOnly(url: string): boolean {
  try {
    const parsed = new URL(url);
    return /^postgres(ql)?:$/.test(parsed.protocol) && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** `NAME` (the default) or `GROUP=NAME` (one group), each group at most once. */
function parseGroupValues(pairs: readonly string[], flag: string): Map<RoleGroup | undefined, string> {
  const out = new Map<RoleGroup | undefined, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const group = eq === -1 ? undefined : pair.slice(0, eq);
    if (group !== undefined && !(ROLE_GROUPS as readonly string[]).includes(group)) {
      throw new UsageError(`${flag}: "${group.slice(0, 40)}" is not a group; the groups are ${ROLE_GROUPS.join(', ')}`);
    }
    const value = eq === -1 ? pair : pair.slice(eq + 1);
    if (!value) throw new UsageError(`${flag} ${pair}: the value is empty`);
    if (out.has(group as RoleGroup | undefined)) throw new UsageError(`${flag} given twice for ${group ?? 'every group'}`);
    out.set(group as RoleGroup | undefined, value);
  }
  return out;
}

/**
 * The SDK's class: Node hands over a CommonJS module's `module.exports` as the default import (the
 * class is its `default`); other loaders (vitest, bundlers) hand over the class itself.
 */
const Fc3Client = ((fc3 as { default?: unknown }).default ?? fc3) as typeof fc3.default;

/** The FC 3.0 client: `https://<account>.<region>.fc.aliyuncs.com`, or `endpoint` (http:// for a local stand-in). */
export function fcClient(env: NodeJS.ProcessEnv, endpoint?: string): FcClient {
  const url = endpoint ? new URL(/^[a-z]+:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`) : undefined;
  return new Fc3Client(
    new $OpenApiUtil.Config({
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
      regionId: env.ALIBABA_CLOUD_REGION,
      endpoint: url ? url.host : `${env.ALIBABA_CLOUD_ACCOUNT_ID}.${env.ALIBABA_CLOUD_REGION}.fc.aliyuncs.com`,
      protocol: url?.protocol === 'http:' ? 'http' : 'https',
      // Creating a function uploads its zip: allow for it.
      connectTimeout: 10_000,
      readTimeout: 120_000,
    }),
  );
}

/** The directory of the package.json above `file`: sources are bundled from there, whether this runs from infra/ or dist/infra/. */
function packageRoot(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('cannot find the package root');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
