import { alibabaSecretReader } from '../keystore/alibaba-secrets.js';
import { awsSecretReader } from '../keystore/aws-secret-reader.js';
import { type ProvisionerSecretSource, provisionerSecretSource } from './secret-source.js';

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

/** Reads a secret's value (tests pass fakes; by default the environment's clients). */
export interface ProvisionerSecretReaders {
  awsSecret?: (secretId: string) => Promise<string | Uint8Array>;
  alibabaSecret?: (secretName: string) => Promise<string>;
}

/** How long reading the secret may take: a connection, then an answer (a cold start waits for it). */
const SECRET_FETCH_TIMEOUTS = { connectMs: 1_000, readMs: 3_000 } as const;

/**
 * Reads the provisioner's access key from the managed secret `configured` names
 * (`KMS_PROVISIONER_SECRET`: `aws-secrets-manager:<id>`, `alibaba-kms-secret:<name>`, or a bare
 * AWS Secrets Manager name or ARN), at run time (the deployment creates the secret empty;
 * `kms access-keys create-provisioner` writes it). Each call reads it: the caller caches what it
 * builds from it and calls again after an authentication failure. Errors name the secret as
 * configured and the store's error code, never the secret's content.
 */
export async function readProvisionerAccessKey(
  configured: string,
  options: { readers?: ProvisionerSecretReaders; env?: NodeJS.ProcessEnv } = {},
): Promise<ProvisionerAccessKey> {
  const source = provisionerSecretSource(configured);
  const read = await readerOf(source, configured, options);
  let secret: string | Uint8Array;
  try {
    secret = await read(source.id);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    throw new ProvisionerSecretUnreadableError(
      `the provisioner's secret ${configured} cannot be read (${typeof code === 'string' ? code : ((err as Error)?.name ?? 'Error')})`,
    );
  }
  if (typeof secret !== 'string') throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${configured} holds binary data, not a JSON object`);
  return accessKeyIn(secret, configured);
}

async function readerOf(
  source: ProvisionerSecretSource,
  configured: string,
  options: { readers?: ProvisionerSecretReaders; env?: NodeJS.ProcessEnv },
): Promise<(id: string) => Promise<string | Uint8Array>> {
  const env = options.env ?? process.env;
  if (source.kind === 'aws-secrets-manager') return options.readers?.awsSecret ?? awsSecretReader(env, SECRET_FETCH_TIMEOUTS);
  if (options.readers?.alibabaSecret) return options.readers.alibabaSecret;
  try {
    return await alibabaSecretReader(env, { purpose: 'KMS_PROVISIONER_SECRET=alibaba-kms-secret:…', timeouts: SECRET_FETCH_TIMEOUTS });
  } catch (err) {
    // Missing credentials or SDK: the message says which (it holds no secret).
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${configured} cannot be read: ${(err as Error).message}`);
  }
}

function accessKeyIn(text: string, configured: string): ProvisionerAccessKey {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${configured} is not a JSON object`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${configured} is not a JSON object`);
  }
  const { accessKeyId, accessKeySecret } = value as Record<string, unknown>;
  if (accessKeyId === undefined && accessKeySecret === undefined) throw new ProvisionerKeyNotRegisteredError(configured);
  if (typeof accessKeyId !== 'string' || !accessKeyId || typeof accessKeySecret !== 'string' || !accessKeySecret) {
    throw new ProvisionerSecretUnreadableError(`the provisioner's secret ${configured} must hold accessKeyId and accessKeySecret, both text`);
  }
  return { accessKeyId, accessKeySecret };
}
