import { createProvisioner, DEFAULT_REGISTRY_URL, type Provisioner } from '@alibaba-kms-compatible/client';

/** The provisioner trigger's environment variables (exact names), and the registry's default. */
export const PROVISIONER_ENV = {
  endpoint: 'KMS_ENDPOINT',
  accessKeyId: 'KMS_PROVISIONER_ACCESS_KEY_ID',
  accessKeySecret: 'KMS_PROVISIONER_ACCESS_KEY_SECRET',
  registry: 'KMS_PARTITION_REGISTRY',
  keyId: 'KMS_PARTITION_KEY_ID',
} as const;

/**
 * The provisioner as the trigger functions configure it: `KMS_ENDPOINT`, `KMS_PROVISIONER_ACCESS_KEY_ID`,
 * `KMS_PROVISIONER_ACCESS_KEY_SECRET` (required), `KMS_PARTITION_REGISTRY` (default
 * `file:./.kms-partitions`) and `KMS_PARTITION_KEY_ID` (the CMK for events that name none).
 */
export function provisionerFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Provisioner> {
  const accessKeyId = env[PROVISIONER_ENV.accessKeyId];
  const accessKeySecret = env[PROVISIONER_ENV.accessKeySecret];
  if (!accessKeyId || !accessKeySecret) {
    return Promise.reject(
      new Error(`${PROVISIONER_ENV.accessKeyId} and ${PROVISIONER_ENV.accessKeySecret} must be set: the provisioner calls the KMS with its own access key`),
    );
  }
  return createProvisioner({
    ...(env[PROVISIONER_ENV.endpoint] ? { endpoint: env[PROVISIONER_ENV.endpoint] } : {}),
    accessKeyId,
    accessKeySecret,
    registry: env[PROVISIONER_ENV.registry] || DEFAULT_REGISTRY_URL,
    ...(env[PROVISIONER_ENV.keyId] ? { keyId: env[PROVISIONER_ENV.keyId] } : {}),
  });
}
