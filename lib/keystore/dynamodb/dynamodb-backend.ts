import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbNonceStore } from './dynamodb-nonce-store.js';
import type { Logger } from '../../logger.js';
import type { StateBackend } from '../backend.js';
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
 * How the client is built when none is given, as lib/service-from-env.ts builds its AWS clients:
 * the stores retry on their own (bounded, with jitter), so the SDK's retries are off (they would
 * also hide lost answers from the stores); a call that hangs is cut short so that a request fails
 * fast instead of waiting for the Lambda timeout.
 */
const CLIENT_DEFAULTS = { maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 } as const;

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
  const client =
    options.client ??
    new DynamoDBClient({
      ...(options.region ? { region: options.region } : {}),
      maxAttempts: CLIENT_DEFAULTS.maxAttempts,
      requestHandler: { connectionTimeout: CLIENT_DEFAULTS.connectionTimeoutMs, requestTimeout: CLIENT_DEFAULTS.requestTimeoutMs },
    });
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
