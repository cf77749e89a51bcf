import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** The provisioner's own access key, as its secret holds it: `{"accessKeyId": …, "accessKeySecret": …}`. */
export interface ProvisionerAccessKey {
  accessKeyId: string;
  accessKeySecret: string;
}

/**
 * The provisioner's secret holds no access key yet (the stack creates it as `{}`): every event
 * fails with this until an operator registers one. Its message names the secret and the command,
 * never a value.
 */
export class ProvisionerKeyNotRegisteredError extends Error {
  readonly code = 'ProvisionerKeyNotRegistered';
  constructor(secretId: string) {
    super(
      `the secret ${secretId} holds no access key for the provisioner: register one with \`kms access-keys create-provisioner --secret ${secretId} --key <the partition key>\``,
    );
  }
}

/** The secret cannot be read, or holds something other than an access key (its content is never quoted). */
export class ProvisionerSecretUnreadableError extends Error {
  readonly code = 'ProvisionerSecretUnreadable';
}

/** The error codes that say an access key is not (or no longer) the registered one: then the secret is read again. */
export const AUTHENTICATION_FAILURES: ReadonlySet<string> = new Set(['InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive', 'SignatureDoesNotMatch']);

/** Whether a provisioning failure says the access key was refused (a rotated or deleted key). */
export function isAuthenticationFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && AUTHENTICATION_FAILURES.has(code);
}

/**
 * Reads the provisioner's access key from its Secrets Manager secret, at run time (the stack
 * creates the secret empty; `kms access-keys create-provisioner` writes it). Each call reads it:
 * the caller caches what it builds from it and calls again after an authentication failure.
 */
export async function readProvisionerAccessKey(secretId: string, client: SecretsManagerClient = new SecretsManagerClient({})): Promise<ProvisionerAccessKey> {
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (err) {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${secretId} cannot be read (${(err as Error)?.name ?? 'Error'})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${secretId} is not a JSON object`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${secretId} is not a JSON object`);
  }
  const { accessKeyId, accessKeySecret } = value as Record<string, unknown>;
  if (accessKeyId === undefined && accessKeySecret === undefined) throw new ProvisionerKeyNotRegisteredError(secretId);
  if (typeof accessKeyId !== 'string' || !accessKeyId || typeof accessKeySecret !== 'string' || !accessKeySecret) {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${secretId} must hold accessKeyId and accessKeySecret, both text`);
  }
  return { accessKeyId, accessKeySecret };
}
