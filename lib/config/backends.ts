import type { BackendWiring } from '../keystore/backend.js';
import { dynamoDbBackend } from '../keystore/dynamodb/config.js';
import { fileBackend } from '../keystore/file/config.js';
import { postgresBackend } from '../keystore/postgres/config.js';
import { secretsManagerBackend } from '../keystore/secrets-manager/config.js';
import { oneOf } from './variable.js';

/**
 * The key stores `KMS_KEY_STORE` chooses from, each by its wiring (lib/keystore/<backend>/config.ts:
 * its variables, how they are read, how it is opened). A new backend is a folder and a line here.
 */
export const BACKENDS = {
  file: fileBackend,
  postgres: postgresBackend,
  dynamodb: dynamoDbBackend,
  'secrets-manager': secretsManagerBackend,
} as const;

export type KeyStoreKind = keyof typeof BACKENDS;

export const KEY_STORE = oneOf('KMS_KEY_STORE', Object.keys(BACKENDS) as KeyStoreKind[], {
  default: 'file',
  doc: '`file` (one machine: `KMS_DATA_DIR`), `postgres` (a cluster; Function Compute), `dynamodb` (AWS), or `secrets-manager` (AWS, earlier deployments)',
});

type ConfigOf<W> = W extends BackendWiring<infer C> ? C : never;

/** The chosen backend and its own configuration, read by its wiring. */
export type BackendChoice = { [K in KeyStoreKind]: { keyStore: K; backend: ConfigOf<(typeof BACKENDS)[K]> } }[KeyStoreKind];

/** The wiring of a choice, for code that passes the choice's configuration back to it. */
export function wiringOf(choice: BackendChoice): BackendWiring<BackendChoice['backend']> {
  return BACKENDS[choice.keyStore] as BackendWiring<BackendChoice['backend']>;
}

/** The backends that keep a replay store shared by every instance, as messages list them. */
export function sharedNonceBackends(): string {
  const kinds = Object.values(BACKENDS)
    .filter((b) => b.ownNonces === 'shared')
    .map((b) => b.kind);
  return `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`;
}
