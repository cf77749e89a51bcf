import { join } from 'node:path';
import { ConfigurationError, type Environment, optionalText, text, variable } from '../config/variable.js';
import * as z from '../zod.js';
import { DEFAULT_ROOT_KEY_FILE, type RootKeySource } from './root-key.js';

/*
 * The variables more than one backend reads: the data directory (the file store, the journal of
 * used nonces beside any store, the default root key file), the root key that seals the `file`,
 * `postgres` and `dynamodb` stores, and the region of the AWS-backed ones. Each backend's own are in its config.ts.
 */

export const DATA_DIR = text('KMS_DATA_DIR', {
  default: './.kms-data',
  doc: 'the embedded file store, and the journal of used nonces (created 0700 if missing; its parent must exist — nothing is created outside it)',
});

export const ROOT_KEY_FILE = optionalText('KMS_ROOT_KEY_FILE', {
  shownDefault: `\`<KMS_DATA_DIR>/${DEFAULT_ROOT_KEY_FILE}\``,
  doc: 'the root key that seals the `file`, `postgres` and `dynamodb` stores (32 bytes, Base64; created 0600 on the first start of an empty store, never over sealed data, never for `dynamodb`; refused on a cloud function)',
});

const ROOT_KEY_SOURCE_FORMS = 'aws-secrets-manager:<secret-id>, alibaba-kms-secret:<secret-name> or file:<path>';

export const ROOT_KEY_SOURCE = variable(
  'KMS_ROOT_KEY_SOURCE',
  z.pipe(
    z.optional(z.string()),
    z.transform((source, context): RootKeySource | undefined => {
      if (source === undefined) return undefined;
      const colon = source.indexOf(':');
      const kind = colon === -1 ? source : source.slice(0, colon);
      const name = colon === -1 ? '' : source.slice(colon + 1);
      if (kind === 'aws-secrets-manager' && name) return { kind, secretId: name };
      if (kind === 'alibaba-kms-secret' && name) return { kind, secretName: name };
      if (kind === 'file' && name) return { kind, path: name };
      return z.refuse(context, source, `must be ${ROOT_KEY_SOURCE_FORMS}, not "${source}"`);
    }),
  ),
  {
    doc: 'the root key from a managed secret instead: `aws-secrets-manager:<secret-id>` or `alibaba-kms-secret:<secret-name>` (`GetSecretValue`), or `file:<path>`; the secret holds `{"seed":"<at least 43 characters>"}` (the key is derived with HKDF-SHA256), Base64 of 32 bytes, or (AWS) 32 binary bytes; the Alibaba secret is read with `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`/`_SECURITY_TOKEN` and `ALIBABA_CLOUD_REGION`',
  },
);

export const AWS_REGION = optionalText('AWS_REGION', {
  shownDefault: '`AWS_DEFAULT_REGION` (required with `dynamodb`, `secrets-manager`)',
  doc: 'region of the AWS clients',
});

/** Where the root key comes from: `KMS_ROOT_KEY_SOURCE`, else the file `KMS_ROOT_KEY_FILE`, else `<KMS_DATA_DIR>/root.key`. */
export function rootKeySourceFromEnvironment(env: Environment): RootKeySource {
  return ROOT_KEY_SOURCE.read(env) ?? { kind: 'file', path: ROOT_KEY_FILE.read(env) ?? join(DATA_DIR.read(env), DEFAULT_ROOT_KEY_FILE) };
}

/** The region of the AWS clients; `kind` (the key store that needs it) is named when there is none. */
export function awsRegionFromEnvironment(env: Environment, kind: string): string {
  const region = AWS_REGION.read(env) ?? (env.AWS_DEFAULT_REGION || undefined);
  if (!region) throw new ConfigurationError(`KMS_KEY_STORE=${kind} needs AWS_REGION`);
  return region;
}

/**
 * How the AWS clients of the stores are built: the stores retry on their own (bounded, with
 * jitter), so the SDK's retries are off (they would also hide lost answers from the stores); a
 * call that hangs is cut short so that a request fails fast instead of waiting for the Lambda
 * timeout.
 */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 } as const;

/** {@link AWS_CLIENT_DEFAULTS} as an AWS SDK v3 client configuration, in `region` (else the SDK's own). */
export function awsClientConfig(region?: string) {
  return {
    ...(region ? { region } : {}),
    maxAttempts: AWS_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: { connectionTimeout: AWS_CLIENT_DEFAULTS.connectionTimeoutMs, requestTimeout: AWS_CLIENT_DEFAULTS.requestTimeoutMs },
  };
}
