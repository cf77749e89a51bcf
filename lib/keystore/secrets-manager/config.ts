import { type Environment, optionalText, text, wholeNumber } from '../../config/variable.js';
import type { BackendWiring } from '../backend.js';
import { CACHED_STORE_DEFAULTS } from '../cached-store.js';
import { awsRegionFromEnvironment } from '../config.js';
import type { SecretsManagerConfig } from './secrets-manager-backend.js';

export const SECRETS_PREFIX = text('KMS_SECRETS_PREFIX', {
  default: 'kms/',
  doc: 'secret-name prefix: with `secrets-manager`, of every entry; with `dynamodb` (only when set), of the per-version key-material secrets of the earlier layout, read for versions not yet copied into the table by `kms store migrate-material` (then unset it)',
});

export const SECRETS_KMS_KEY_ID = optionalText('KMS_SECRETS_KMS_KEY_ID', {
  shownDefault: "— (the account's `aws/secretsmanager`)",
  doc: 'the customer-managed AWS KMS key new secrets are encrypted under',
});

export const SECRETS_ROLE_PATTERN = optionalText('KMS_SECRETS_ROLE_PATTERN', {
  doc: 'put a resource policy on each new secret denying every principal whose ARN does not match (e.g. `arn:aws:iam::*:role/kms-prod-*`)',
});

export const STORE_CACHE_TTL_MS = wholeNumber('KMS_STORE_CACHE_TTL_MS', {
  default: CACHED_STORE_DEFAULTS.ttlMs,
  what: 'a whole number of milliseconds',
  doc: 'how long mutable entries read from Secrets Manager are trusted (other instances see a change within this plus `KMS_CACHE_TTL_MS`: Secrets Manager keeps no change marker); key material: at least 1 h',
});

export const STORE_STALE_FOR_MS = wholeNumber('KMS_STORE_STALE_FOR_MS', {
  default: CACHED_STORE_DEFAULTS.staleForMs,
  what: 'a whole number of milliseconds',
  doc: 'during a Secrets Manager outage, how long past its TTL a cached entry is still served; after that, 503 `ServiceUnavailableTemporary`',
});

/** The Secrets Manager variables, read for `kind` (the key store they serve, named when AWS_REGION is missing). */
export function secretsManagerConfigFromEnvironment(env: Environment, kind: string): SecretsManagerConfig {
  const region = awsRegionFromEnvironment(env, kind);
  const cacheTtlMs = STORE_CACHE_TTL_MS.read(env);
  const kmsKeyId = SECRETS_KMS_KEY_ID.read(env);
  const rolePattern = SECRETS_ROLE_PATTERN.read(env);
  return {
    prefix: SECRETS_PREFIX.read(env),
    region,
    cacheTtlMs,
    // Write-once entries (key material) never change: trusted at least as long as mutable ones.
    writeOnceTtlMs: Math.max(cacheTtlMs, CACHED_STORE_DEFAULTS.writeOnceTtlMs),
    staleForMs: STORE_STALE_FOR_MS.read(env),
    ...(kmsKeyId ? { kmsKeyId } : {}),
    ...(rolePattern ? { rolePattern } : {}),
  };
}

/**
 * `KMS_KEY_STORE=secrets-manager` (AWS, earlier deployments): one secret per entry under the
 * prefix, read through a cache. It keeps no replay store: a deployment of several instances
 * needs a nonce table (`KMS_NONCE_TABLE`). The AWS SDK is loaded when it is opened.
 */
export const secretsManagerBackend: BackendWiring<SecretsManagerConfig> = {
  kind: 'secrets-manager',
  variables: [SECRETS_PREFIX, SECRETS_KMS_KEY_ID, SECRETS_ROLE_PATTERN, STORE_CACHE_TTL_MS, STORE_STALE_FOR_MS],
  fromEnvironment: (env) => secretsManagerConfigFromEnvironment(env, 'secrets-manager'),
  ownNonces: undefined,
  perInstance: false,
  rootKey: () => undefined,
  open: async (config, options) => (await import('./secrets-manager-backend.js')).openSecretsManagerState(config, options),
};
