import FCClient from '@alicloud/fc2';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ACTIONS, DISPATCHER, EVENT_TRIGGERED, SCHEDULED } from '../../functions/actions.js';
import { deployToFunctionCompute } from './deploy.js';
import { bundleFunction } from './package.js';

const USAGE = `Deploys one stage to Alibaba Cloud Function Compute.

  npm run deploy:fc -- --stage dev --env KMS_POSTGRES_URL=postgres://… \
      --env KMS_ROOT_KEY_SOURCE=alibaba-kms-secret:<name> [--endpoint URL] [--service-config FILE.json] [--env KMS_NAME=value]...

Reads ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
ALIBABA_CLOUD_REGION, and optionally ALIBABA_CLOUD_SECURITY_TOKEN (STS) and ALIBABA_CLOUD_FC_ENDPOINT
(the FC API endpoint, which --endpoint overrides). The functions keep their state in PostgreSQL
(ApsaraDB RDS): KMS_POSTGRES_URL, and the root key that seals it from a KMS secret
(KMS_ROOT_KEY_SOURCE=alibaba-kms-secret:<name>) are required. --service-config holds more service
settings (vpcConfig to reach the database, role, logConfig), sent as FC expects them.`;

/** What every FC deployment must be given: the shared state and the root key (an instance's disk holds neither). */
export const FC_REQUIRED_ENV = ['KMS_POSTGRES_URL', 'KMS_ROOT_KEY_SOURCE'] as const;

/** The `deploy:fc` command. Returns the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string', default: 'dev' },
      endpoint: { type: 'string' },
      'service-config': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const required = ['ALIBABA_CLOUD_ACCOUNT_ID', 'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_REGION'] as const;
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    console.error(`missing environment: ${missing.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const accountId = env.ALIBABA_CLOUD_ACCOUNT_ID!;
  const region = env.ALIBABA_CLOUD_REGION!;
  const environment: Record<string, string> = { KMS_REGION: region, KMS_ACCOUNT_ID: accountId };
  for (const pair of values.env) {
    const eq = pair.indexOf('=');
    if (eq < 1 || !pair.startsWith('KMS_')) {
      // Only the name part is echoed: the value may be a database password.
      console.error(`--env takes KMS_NAME=value, not "${pair.slice(0, Math.max(0, eq)).slice(0, 40) || pair.slice(0, 8)}…"`);
      return 2;
    }
    environment[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const absent = FC_REQUIRED_ENV.filter((name) => !environment[name]);
  if (absent.length > 0) {
    console.error(
      `missing ${absent.map((name) => `--env ${name}=…`).join(' and ')}: Function Compute instances share no disk, so the state lives in PostgreSQL\n\n${USAGE}`,
    );
    return 2;
  }
  if (!environment.KMS_ROOT_KEY_SOURCE!.startsWith('alibaba-kms-secret:') && !environment.KMS_ROOT_KEY_SOURCE!.startsWith('aws-secrets-manager:')) {
    console.error('KMS_ROOT_KEY_SOURCE must name a managed secret (alibaba-kms-secret:<name>): a root key file would be per instance');
    return 2;
  }
  const service = values['service-config'] ? (JSON.parse(await readFile(values['service-config'], 'utf8')) as Record<string, unknown>) : undefined;
  const client = new FCClient(accountId, {
    accessKeyID: env.ALIBABA_CLOUD_ACCESS_KEY_ID!,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,
    securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
    region,
    endpoint: values.endpoint ?? env.ALIBABA_CLOUD_FC_ENDPOINT,
    // Without `secure` the SDK's default endpoint is plain http.
    secure: true,
    timeout: 120_000,
  });
  const root = packageRoot(fileURLToPath(import.meta.url));
  const report = await deployToFunctionCompute({
    client,
    stage: values.stage,
    // The dispatcher backs the API Gateway's catch-all API: requests whose Action is only in a form body.
    functions: [...ACTIONS, DISPATCHER],
    scheduled: SCHEDULED,
    eventTriggered: EVENT_TRIGGERED,
    codeFor: async (source) => ({ zipFile: (await bundleFunction(source.file, { root })).toString('base64') }),
    environment,
    service,
    log: (message) => console.log(message),
  });
  console.log(`deployed ${report.functions.length} functions to ${report.serviceName}`);
  return 0;
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
