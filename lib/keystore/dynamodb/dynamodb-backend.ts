import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../logger.js';
import type { OpenedBackend, OpenOptions, StateBackend } from '../backend.js';
import { awsClientConfig } from '../config.js';
import { requireKeyStore } from '../existing-store.js';
import type { KeyStore } from '../key-store.js';
import type { LegacySecrets } from '../material-migration.js';
import { MaterialFallbackStore } from '../material-fallback-store.js';
import { type RootKeySource, sealWithRootKey } from '../root-key.js';
import type { SecretsManagerConfig } from '../secrets-manager/secrets-manager-backend.js';
import { DynamoDbNonceStore } from './dynamodb-nonce-store.js';
import { DynamoDbKeyStore } from './dynamodb-store.js';
import { nonceKey } from './items.js';

export { createStateTable, type CreateStateTableOptions, STATE_TABLE_DEFINITION } from './table.js';
export { DynamoDbKeyStore, type DynamoDbKeyStoreOptions } from './dynamodb-store.js';

export interface DynamoDbBackendOptions {
  /** A client to use (and leave open on close). Build it with `maxAttempts: 1`: the stores retry on their own. */
  client?: DynamoDBClient;
  /** The region of the client built when none is given (default: the SDK's, from the environment). */
  region?: string;
  /** The state table ({@link STATE_TABLE_DEFINITION}); it must exist. */
  tableName: string;
  logger?: Logger;
}

/**
 * The `dynamodb` state backend (AWS): key-store entries and used nonces in one table, so a
 * deployment has one resource to create, grant and back up. Every instance (Lambda container,
 * gateway) opens the same table and reads it strongly consistently; see {@link DynamoDbKeyStore}
 * for the entries and {@link DynamoDbNonceStore} for the nonces (under `nonce#` keys).
 *
 * Opening sends nothing: a missing table or permission shows on first use, as
 * KeyStoreFailureError / KeyStoreAccessDeniedError from the store and ServiceUnavailableError
 * (fail closed) from the nonces. `close()` destroys the client if the backend built it.
 */
export async function openDynamoDbBackend(options: DynamoDbBackendOptions): Promise<StateBackend> {
  const owned = options.client === undefined;
  // Built as every AWS client of the stores is (../config.ts): the stores retry on their own.
  const client = options.client ?? new DynamoDBClient(awsClientConfig(options.region));
  const { tableName, logger } = options;
  try {
    const store = new DynamoDbKeyStore({ client, tableName, ...(logger ? { logger } : {}) });
    const nonces = new DynamoDbNonceStore({ client, tableName, itemKey: nonceKey, ...(logger ? { logger } : {}) });
    let closed = false;
    return {
      kind: 'dynamodb',
      store,
      nonces,
      async close() {
        if (closed) return;
        closed = true;
        if (owned) client.destroy();
      },
    };
  } catch (err) {
    // An invalid table name: release what we built.
    if (owned) client.destroy();
    throw err;
  }
}

/** The dynamodb backend as a deployment configures it (./config.ts reads it). */
export interface DynamoDbConfig {
  table: string;
  region: string;
  /** The root key every value of the table is sealed under. */
  rootKey: RootKeySource;
  /**
   * Where an earlier layout kept key material (one secret per version, `KMS_SECRETS_PREFIX`):
   * read for versions the table does not hold yet, until `kms store migrate-material` has run.
   */
  legacyMaterial?: SecretsManagerConfig;
}

/**
 * The dynamodb backend as the service uses it: the table's store sealed under the root key (a
 * table written before sealing is sealed in place on first open: ../sealed-store.ts), reading
 * material not yet migrated from Secrets Manager when `legacyMaterial` is set, and its replay
 * store when `nonces`. The root key and the table are read at once (a cold start waits once).
 * With `mustExist`, a table that holds no store is refused before anything is written.
 */
export async function openDynamoDbState(config: DynamoDbConfig, options: OpenOptions): Promise<OpenedBackend> {
  const { logger } = options;
  const backend = await openDynamoDbBackend({ tableName: config.table, region: config.region, logger });
  try {
    if (options.mustExist) await requireKeyStore(backend.store, `in the DynamoDB table ${config.table}`);
    const sealed = await sealDynamoDbStore(backend.store, config.rootKey, options.sealInPlace === true);
    let store: KeyStore = sealed;
    if (config.legacyMaterial) {
      const { openSecretsManagerStore } = await import('../secrets-manager/secrets-manager-backend.js');
      store = new MaterialFallbackStore({ table: sealed, secrets: openSecretsManagerStore(config.legacyMaterial, logger) });
      logger.warn(
        'KMS_SECRETS_PREFIX is set: key material the table does not hold yet is read from Secrets Manager; run `kms store migrate-material`, then unset it',
        {
          backend: 'dynamodb',
          prefix: config.legacyMaterial.prefix,
        },
      );
    }
    return { store, ...(options.nonces ? { nonces: backend.nonces } : {}), close: () => backend.close() };
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The table's store sealed under the root key. A root key file is never made for it (a table is
 * shared by every instance of a stage: a key made by whichever opens it first, a workstation
 * running the CLI say, would lock the others out): it must exist, or come from a managed secret.
 * Values in the clear (a table of an earlier release) are sealed in place only when an operator
 * asks (`kms store seal`): the right to write the table is not the right to the root key, so a
 * value planted in the clear is refused, never sealed and served.
 */
export function sealDynamoDbStore(table: KeyStore, rootKey: RootKeySource, sealInPlace = false): Promise<KeyStore> {
  return sealWithRootKey(table, rootKey, { createFile: 'never', sealInPlace: sealInPlace ? 'automatic' : 'explicit' });
}

/** What `kms store migrate-material` works on: the sealed table, and the secrets of the earlier layout. */
export interface MaterialMigrationStores {
  table: KeyStore;
  secrets: LegacySecrets;
  /** The secret-name prefix, for the report. */
  prefix: string;
  close(): Promise<void>;
}

/**
 * Opens the sealed table (which must hold a store) and the Secrets Manager secrets under
 * `legacyMaterial`'s prefix, read directly (no cache: each value is verified as it is now).
 */
export async function openMaterialMigration(
  config: DynamoDbConfig & { legacyMaterial: SecretsManagerConfig },
  logger: Logger,
): Promise<MaterialMigrationStores> {
  // The table's own store, without the fallback: the migration reads the secrets itself.
  const { legacyMaterial, ...tableOnly } = config;
  const opened = await openDynamoDbState(tableOnly, { logger, nonces: false, mustExist: true });
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { SecretsManagerStore } = await import('../secrets-manager/secrets-manager-store.js');
  const secrets = new SecretsManagerStore({ client: new SecretsManagerClient(awsClientConfig(legacyMaterial.region)), prefix: legacyMaterial.prefix, logger });
  return { table: opened.store, secrets, prefix: legacyMaterial.prefix, close: opened.close };
}

/**
 * Used nonces in a table of their own (`KMS_NONCE_TABLE`: partition key `pk`, TTL on `expiresAt`),
 * beside a store that keeps none shared: every instance claims there, so a nonce used on one is
 * refused by all.
 */
export function openDynamoDbNonceTable(tableName: string, region: string | undefined, logger: Logger): DynamoDbNonceStore {
  return new DynamoDbNonceStore({ client: new DynamoDBClient(awsClientConfig(region)), tableName, logger });
}
