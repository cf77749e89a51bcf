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

/** What a URL secret may hold: the whole URL, or an RDS account (a KMS-managed RDS secret, rotated by KMS). */
type SecretContent = { url: string } | { accountName: string; accountPassword: string };

/** One fetch per secret and instance: a cold start reads it once, later builds of the service reuse it. */
const fetched = new Map<string, Promise<SecretContent>>();

/**
 * The PostgreSQL URL (password included) from an Alibaba Cloud KMS secret, read with
 * `GetSecretValue` under the function's role (FC injects its credentials), so that no function's
 * environment holds the password. The secret's text is either the URL, or (a KMS-managed RDS
 * secret) `{"AccountName": …, "AccountPassword": …}`, put into `address` (KMS_POSTGRES_URL without
 * user or password). Cached per instance; a failed read is not cached, and
 * {@link forgetPostgresUrl} drops a secret whose URL the database refused (a rotated password), so
 * the next start reads it again.
 */
export async function postgresUrlFromSecret(
  source: PostgresUrlSource,
  options: { read?: SecretReader; env?: NodeJS.ProcessEnv; address?: string | undefined } = {},
): Promise<string> {
  let content = fetched.get(source.secretName);
  if (!content) {
    content = fetchContent(source.secretName, options).catch((err: unknown) => {
      fetched.delete(source.secretName);
      throw err;
    });
    fetched.set(source.secretName, content);
  }
  const held = await content;
  if ('url' in held) {
    if (options.address) throw new PostgresUrlSecretError(`${where(source.secretName)} holds a whole URL: leave KMS_POSTGRES_URL unset`);
    return held.url;
  }
  if (!options.address) {
    throw new PostgresUrlSecretError(
      `${where(source.secretName)} holds an RDS account: set KMS_POSTGRES_URL to the database's address, without user or password (postgres://host:5432/database?sslmode=require)`,
    );
  }
  const url = new URL(options.address);
  url.username = encodeURIComponent(held.accountName);
  url.password = encodeURIComponent(held.accountPassword);
  return url.toString();
}

/** Drops the cached secret of `source`: the next start reads it again. */
export function forgetPostgresUrl(source: PostgresUrlSource): void {
  fetched.delete(source.secretName);
}

const where = (secretName: string) => `the Alibaba Cloud KMS secret ${secretName} (KMS_POSTGRES_URL_SOURCE)`;

async function fetchContent(secretName: string, options: { read?: SecretReader; env?: NodeJS.ProcessEnv }): Promise<SecretContent> {
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
  const value = text.trim();
  if (isPostgresUrl(value)) return { url: value };
  const account = rdsAccount(value);
  if (account) return account;
  throw new PostgresUrlSecretError(
    `${where(secretName)} holds neither a PostgreSQL URL (postgres://user:password@host:5432/database) nor an RDS account ({"AccountName": …, "AccountPassword": …})`,
  );
}

/** A KMS-managed RDS secret's value: `{"AccountName": "…", "AccountPassword": "…"}`. */
function rdsAccount(text: string): { accountName: string; accountPassword: string } | undefined {
  try {
    const value = JSON.parse(text) as { AccountName?: unknown; AccountPassword?: unknown } | null;
    if (typeof value?.AccountName === 'string' && value.AccountName && typeof value.AccountPassword === 'string' && value.AccountPassword) {
      return { accountName: value.AccountName, accountPassword: value.AccountPassword };
    }
  } catch {
    // Not JSON: neither form.
  }
  return undefined;
}

function isPostgresUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}
