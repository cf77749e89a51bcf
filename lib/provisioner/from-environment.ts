import { createProvisioner, DEFAULT_REGISTRY_URL, type Provisioner } from '@alibaba-kms-compatible/client';
import { type ProvisionerAccessKey, type ProvisionerSecretReaders, readProvisionerAccessKey } from './secret-credentials.js';

/** The provisioner trigger's environment variables (exact names), and the registry's default. */
export const PROVISIONER_ENV = {
  endpoint: 'KMS_ENDPOINT',
  secret: 'KMS_PROVISIONER_SECRET',
  accessKeyId: 'KMS_PROVISIONER_ACCESS_KEY_ID',
  accessKeySecret: 'KMS_PROVISIONER_ACCESS_KEY_SECRET',
  registry: 'KMS_PARTITION_REGISTRY',
  keyId: 'KMS_PARTITION_KEY_ID',
} as const;

/**
 * The provisioner as the trigger functions configure it: `KMS_ENDPOINT`, its access key —
 * `KMS_PROVISIONER_SECRET` (a managed secret holding `{"accessKeyId", "accessKeySecret"}`, read
 * now: `aws-secrets-manager:<id>` or a bare name/ARN on AWS, `alibaba-kms-secret:<name>` on
 * Function Compute; see ./secret-source.ts) or else `KMS_PROVISIONER_ACCESS_KEY_ID` and
 * `KMS_PROVISIONER_ACCESS_KEY_SECRET` — `KMS_PARTITION_REGISTRY` (default `file:./.kms-partitions`)
 * and `KMS_PARTITION_KEY_ID` (the CMK for events that name none). Each call reads the secret
 * again: the caller keeps the provisioner, and builds a new one when the key was refused.
 */
export async function provisionerFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  options: { readers?: ProvisionerSecretReaders } = {},
): Promise<Provisioner> {
  const { accessKeyId, accessKeySecret } = await accessKeyOf(env, options.readers);
  return createProvisioner({
    ...(env[PROVISIONER_ENV.endpoint] ? { endpoint: env[PROVISIONER_ENV.endpoint] } : {}),
    accessKeyId,
    accessKeySecret,
    registry: env[PROVISIONER_ENV.registry] || DEFAULT_REGISTRY_URL,
    ...(env[PROVISIONER_ENV.keyId] ? { keyId: env[PROVISIONER_ENV.keyId] } : {}),
  });
}

async function accessKeyOf(env: NodeJS.ProcessEnv, readers: ProvisionerSecretReaders | undefined): Promise<ProvisionerAccessKey> {
  const secret = env[PROVISIONER_ENV.secret];
  if (secret) return readProvisionerAccessKey(secret, { env, ...(readers ? { readers } : {}) });
  const accessKeyId = env[PROVISIONER_ENV.accessKeyId];
  const accessKeySecret = env[PROVISIONER_ENV.accessKeySecret];
  if (!accessKeyId || !accessKeySecret) {
    throw new Error(
      `${PROVISIONER_ENV.secret}, or ${PROVISIONER_ENV.accessKeyId} and ${PROVISIONER_ENV.accessKeySecret}, must be set: the provisioner calls the KMS with its own access key`,
    );
  }
  return { accessKeyId, accessKeySecret };
}
