import { ConfigurationError, type Environment, optionalText } from '../../config/variable.js';
import type { BackendWiring } from '../backend.js';
import { rootKeySourceFromEnvironment } from '../config.js';
import type { PostgresConfig } from './postgres-backend.js';
import { DEFAULT_SCHEMA } from './schema.js';

export const POSTGRES_URL = optionalText('KMS_POSTGRES_URL', {
  shownDefault: '— (required with `postgres`)',
  doc: '`postgres://user:password@host:5432/database` (`?sslmode=require` for RDS)',
});

export const POSTGRES_SCHEMA = optionalText('KMS_POSTGRES_SCHEMA', {
  shownDefault: `\`${DEFAULT_SCHEMA}\``,
  doc: 'the schema of its tables, created or migrated at start',
});

/**
 * `KMS_KEY_STORE=postgres` (self-hosted clusters; Function Compute with RDS): entries and used
 * nonces in one schema of one database, shared by every instance, sealed under the root key.
 * `pg` is loaded when it is opened.
 */
export const postgresBackend: BackendWiring<PostgresConfig> = {
  kind: 'postgres',
  variables: [POSTGRES_URL, POSTGRES_SCHEMA],
  fromEnvironment(env: Environment): PostgresConfig {
    const url = POSTGRES_URL.read(env);
    if (!url) throw new ConfigurationError('KMS_KEY_STORE=postgres needs KMS_POSTGRES_URL (postgres://user:password@host:5432/database)');
    const schema = POSTGRES_SCHEMA.read(env);
    return { url, ...(schema ? { schema } : {}), rootKey: rootKeySourceFromEnvironment(env) };
  },
  ownNonces: 'shared',
  perInstance: false,
  rootKey: (config) => config.rootKey,
  open: async (config, options) => (await import('./postgres-backend.js')).openPostgresState(config, options),
};
