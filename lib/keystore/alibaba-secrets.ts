/**
 * Alibaba Cloud KMS secrets (`GetSecretValue`, `PutSecretValue`, API 2016-01-20) through the
 * official client, with the credentials of the environment: a Function Compute role's are injected
 * as `ALIBABA_CLOUD_*`, and its region as `FC_REGION`; `ALIBABA_CLOUD_KMS_ENDPOINT` points
 * elsewhere (a local stand-in in the tests). Read by the root key (./root-key.ts), the PostgreSQL
 * URL (./postgres/url-secret.ts) and the partition-key provisioner's access key; written by
 * `kms access-keys create-provisioner`.
 */

/** How long one call may take: a connection, then an answer (a cold start waits for it). */
export const ALIBABA_SECRET_TIMEOUTS = { connectMs: 1_000, readMs: 3_000 } as const;

interface ClientOptions {
  /** What needs the secret, for the error that says which variables are missing (the setting that names it). */
  purpose?: string;
  timeouts?: { connectMs: number; readMs: number };
}

type KmsSdk = typeof import('@alicloud/kms20160120');
type KmsClient = InstanceType<KmsSdk['default']>;

async function kmsClient(
  env: NodeJS.ProcessEnv,
  options: ClientOptions,
): Promise<{ client: KmsClient; sdk: Pick<KmsSdk, 'GetSecretValueRequest' | 'PutSecretValueRequest'> }> {
  const purpose = options.purpose ?? 'KMS_ROOT_KEY_SOURCE=alibaba-kms-secret:…';
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const region = env.ALIBABA_CLOUD_REGION || env.FC_REGION;
  if (!accessKeyId || !accessKeySecret || !(region || env.ALIBABA_CLOUD_KMS_ENDPOINT)) {
    throw new Error(`${purpose} needs ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_REGION (or ALIBABA_CLOUD_KMS_ENDPOINT)`);
  }
  // CommonJS packages, imported with static specifiers so that the Function Compute bundles
  // include them (the AWS bundles leave them out: serverless.yml); how `default` arrives differs
  // between Node and a bundle, so it is looked for.
  const [kmsModule, rpcModule] = await Promise.all([import('@alicloud/kms20160120'), import('@alicloud/rpc-client')]).catch((err: unknown) => {
    throw new Error(`${purpose} needs the Alibaba Cloud KMS SDK, which this bundle leaves out (the AWS deployment reads its secrets from Secrets Manager)`, {
      cause: err,
    });
  });
  const Client = cjsDefault<KmsSdk['default']>(kmsModule);
  const endpoint = env.ALIBABA_CLOUD_KMS_ENDPOINT ?? `kms.${region}.aliyuncs.com`;
  const plain = /^(127\.|localhost)/.test(endpoint);
  const timeouts = options.timeouts ?? ALIBABA_SECRET_TIMEOUTS;
  const client = new Client(
    new rpcModule.Config({
      accessKeyId,
      accessKeySecret,
      endpoint,
      regionId: region ?? 'cn-hangzhou',
      protocol: plain ? 'http' : 'https',
      securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
      connectTimeout: timeouts.connectMs,
      readTimeout: timeouts.readMs,
    }),
  );
  return { client, sdk: kmsModule };
}

/** Reads text secrets (`GetSecretValue`): each call one request; a secret without text is an error. */
export async function alibabaSecretReader(env: NodeJS.ProcessEnv, options: ClientOptions = {}): Promise<(secretName: string) => Promise<string>> {
  const { client, sdk } = await kmsClient(env, options);
  return async (secretName) => {
    const out = await client.getSecretValue(new sdk.GetSecretValueRequest({ secretName }));
    const data = out.secretData;
    if (typeof data !== 'string') throw new Error(`the Alibaba Cloud KMS secret ${secretName} holds no text`);
    return data;
  };
}

/**
 * Writes a new version of a text secret (`PutSecretValue`), which becomes its current one
 * (ACSCurrent). `versionId` must be new for the secret: KMS refuses one it holds already.
 */
export async function alibabaSecretWriter(
  env: NodeJS.ProcessEnv,
  options: ClientOptions = {},
): Promise<(secretName: string, secretData: string, versionId: string) => Promise<void>> {
  const { client, sdk } = await kmsClient(env, options);
  return async (secretName, secretData, versionId) => {
    await client.putSecretValue(new sdk.PutSecretValueRequest({ secretName, secretData, secretDataType: 'text', versionId }));
  };
}

/**
 * The class a compiled CommonJS module exports as `default`: Node's ESM loader hands over
 * `module.exports` as `default` (so the class is `default.default`); esbuild's interop hands over
 * the class itself.
 */
function cjsDefault<T>(namespace: { default?: unknown }): T {
  const first = namespace.default as { default?: unknown } | undefined;
  return (typeof first === 'function' ? first : first?.default) as T;
}
