import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../logger.js';
import type { OpenedBackend, OpenOptions, StateBackend } from '../backend.js';
import { awsClientConfig } from '../config.js';
import { requireKeyStore } from '../existing-store.js';
import type { KeyStore } from '../key-store.js';
import type { SecretsManagerConfig } from '../secrets-manager/secrets-manager-backend.js';
import { SplitKeyStore } from '../split-store.js';
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
  /** Key material in Secrets Manager (one secret per version) instead of the table. */
  material?: SecretsManagerConfig;
}

/**
 * The dynamodb backend as the service uses it: the table's store (split, with the key material in
 * Secrets Manager, when configured) and its replay store when `nonces`. The table and the material
 * store are set up at once (a cold start waits once). With `mustExist`, a table that holds no
 * store is refused.
 */
export async function openDynamoDbState(config: DynamoDbConfig, options: OpenOptions): Promise<OpenedBackend> {
  const { logger } = options;
  const [opened, material] = await Promise.allSettled([
    openDynamoDbBackend({ tableName: config.table, region: config.region, logger }),
    config.material
      ? import('../secrets-manager/secrets-manager-backend.js').then((m) => m.openSecretsManagerStore(config.material!, logger))
      : Promise.resolve(undefined),
  ]);
  if (opened.status === 'rejected') throw opened.reason;
  const backend = opened.value;
  try {
    if (material.status === 'rejected') throw material.reason;
    if (options.mustExist) await requireKeyStore(backend.store, `in the DynamoDB table ${config.table}`);
    const store: KeyStore = material.value ? new SplitKeyStore({ material: material.value, state: backend.store }) : backend.store;
    return { store, ...(options.nonces ? { nonces: backend.nonces } : {}), close: () => backend.close() };
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Used nonces in a table of their own (`KMS_NONCE_TABLE`: partition key `pk`, TTL on `expiresAt`),
 * beside a store that keeps none shared: every instance claims there, so a nonce used on one is
 * refused by all.
 */
export function openDynamoDbNonceTable(tableName: string, region: string | undefined, logger: Logger): DynamoDbNonceStore {
  return new DynamoDbNonceStore({ client: new DynamoDBClient(awsClientConfig(region)), tableName, logger });
}
