import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../logger.js';
import type { OpenedBackend, OpenOptions } from '../backend.js';
import { CachedKeyStore } from '../cached-store.js';
import { awsClientConfig } from '../config.js';
import { requireKeyStore } from '../existing-store.js';
import type { KeyStore } from '../key-store.js';
import { onlyRolesPolicy, SecretsManagerStore } from './secrets-manager-store.js';

/** Secrets Manager as a deployment configures it (./config.ts reads it): every entry, or (with DynamoDB) the key material. */
export interface SecretsManagerConfig {
  prefix: string;
  region: string;
  cacheTtlMs: number;
  writeOnceTtlMs: number;
  staleForMs: number;
  /** The customer-managed AWS KMS key new secrets are encrypted under. */
  kmsKeyId?: string;
  /** Only principals whose ARN matches it may use the secrets (a resource policy on each). */
  rolePattern?: string;
}

/**
 * The secrets under the prefix, read through a cache: Secrets Manager keeps no change marker and
 * is slow and metered, so entries are trusted for a while, and served from memory during an outage.
 */
export function openSecretsManagerStore(config: SecretsManagerConfig, logger: Logger): KeyStore {
  const store = new SecretsManagerStore({
    client: new SecretsManagerClient(awsClientConfig(config.region)),
    prefix: config.prefix,
    logger,
    ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
    ...(config.rolePattern ? { resourcePolicy: onlyRolesPolicy(config.rolePattern) } : {}),
  });
  return new CachedKeyStore(store, { ttlMs: config.cacheTtlMs, writeOnceTtlMs: config.writeOnceTtlMs, staleForMs: config.staleForMs, logger });
}

/** `KMS_KEY_STORE=secrets-manager`: the store alone (it keeps no replay store). */
export async function openSecretsManagerState(config: SecretsManagerConfig, options: OpenOptions): Promise<OpenedBackend> {
  const store = openSecretsManagerStore(config, options.logger);
  if (options.mustExist) await requireKeyStore(store, `under the Secrets Manager prefix ${config.prefix}`);
  return { store, close: async () => undefined };
}
