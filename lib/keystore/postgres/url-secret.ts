import { alibabaSecretReader } from '../root-key.js';

/** Where the PostgreSQL URL comes from when it is not in the environment (`KMS_POSTGRES_URL_SOURCE`). */
export interface PostgresUrlSource {
  kind: 'alibaba-kms-secret';
  secretName: string;
}

/** The URL's secret cannot be read, or does not hold a PostgreSQL URL. The message never holds the secret's value. */
export class PostgresUrlSecretError extends Error {
  override readonly name = 'PostgresUrlSecretError';
}

/** Reads a secret's text (tests pass a fake `GetSecretValue`). */
export type SecretReader = (secretName: string) => Promise<string>;

/** One fetch per secret and instance: a cold start reads it once, later builds of the service reuse it. */
const fetched = new Map<string, Promise<string>>();

/**
 * The PostgreSQL URL (password included) from an Alibaba Cloud KMS secret whose text is the URL,
 * read with `GetSecretValue` under the function's role (FC injects its credentials), so that no
 * function's environment holds the password. Cached per instance; a failed read is not cached, and
 * {@link forgetPostgresUrl} drops a URL the database refused (a rotated password), so the next start
 * reads the secret again.
 */
export function postgresUrlFromSecret(source: PostgresUrlSource, options: { read?: SecretReader; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  let url = fetched.get(source.secretName);
  if (!url) {
    url = fetchUrl(source.secretName, options).catch((err: unknown) => {
      fetched.delete(source.secretName);
      throw err;
    });
    fetched.set(source.secretName, url);
  }
  return url;
}

/** Drops the cached URL of `source`: the next start reads the secret again. */
export function forgetPostgresUrl(source: PostgresUrlSource): void {
  fetched.delete(source.secretName);
}

const where = (secretName: string) => `the Alibaba Cloud KMS secret ${secretName} (KMS_POSTGRES_URL_SOURCE)`;

async function fetchUrl(secretName: string, options: { read?: SecretReader; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = options.env ?? process.env;
  let read = options.read;
  if (!read) {
    if (
      !env.ALIBABA_CLOUD_ACCESS_KEY_ID ||
      !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ||
      !(env.ALIBABA_CLOUD_REGION || env.FC_REGION || env.ALIBABA_CLOUD_KMS_ENDPOINT)
    ) {
      throw new PostgresUrlSecretError(
        `cannot read ${where(secretName)}: no Alibaba Cloud credentials (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_REGION; on Function Compute, give the function a role)`,
      );
    }
    read = await alibabaSecretReader(env);
  }
  let text: string;
  try {
    text = await read(secretName);
  } catch (err) {
    // The SDK's error names the service's code and message (never a secret's value).
    const code = (err as { code?: unknown } | null)?.code;
    const message = err instanceof Error ? err.message : String(err);
    const said = typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
    throw new PostgresUrlSecretError(`cannot read ${where(secretName)}: ${said.slice(0, 300)}`, { cause: err });
  }
  const url = text.trim();
  if (!isPostgresUrl(url)) {
    throw new PostgresUrlSecretError(`${where(secretName)} does not hold a PostgreSQL URL: its text must be postgres://user:password@host:5432/database`);
  }
  return url;
}

function isPostgresUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}
