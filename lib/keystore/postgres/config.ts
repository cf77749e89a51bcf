import { ConfigurationError, type Environment, optionalText, variable } from '../../config/variable.js';
import * as z from '../../zod.js';
import type { BackendWiring } from '../backend.js';
import { rootKeySourceFromEnvironment } from '../config.js';
import type { PostgresConfig } from './postgres-backend.js';
import { DEFAULT_SCHEMA } from './schema.js';
import type { PostgresUrlSource } from './url-secret.js';

export const POSTGRES_URL = optionalText('KMS_POSTGRES_URL', {
  shownDefault: '— (with `postgres`, this or `KMS_POSTGRES_URL_SOURCE`)',
  doc: '`postgres://user:password@host:5432/database` (`?sslmode=require` for RDS)',
});

export const POSTGRES_URL_SOURCE = variable(
  'KMS_POSTGRES_URL_SOURCE',
  z.pipe(
    z.optional(z.string()),
    z.transform((source, context): PostgresUrlSource | undefined => {
      if (source === undefined) return undefined;
      const prefix = 'alibaba-kms-secret:';
      if (source.startsWith(prefix) && source.length > prefix.length) return { kind: 'alibaba-kms-secret', secretName: source.slice(prefix.length) };
      return z.refuse(context, source, `must be alibaba-kms-secret:<secret-name>, not "${source.slice(0, 60)}"`);
    }),
  ),
  {
    doc: 'instead of `KMS_POSTGRES_URL`: `alibaba-kms-secret:<secret-name>`, a secret whose text is that URL, read with `GetSecretValue` at start (once per instance; credentials as for `KMS_ROOT_KEY_SOURCE`), so that no environment holds the password',
  },
);

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
  variables: [POSTGRES_URL, POSTGRES_URL_SOURCE, POSTGRES_SCHEMA],
  fromEnvironment(env: Environment): PostgresConfig {
    const url = POSTGRES_URL.read(env);
    const urlSource = POSTGRES_URL_SOURCE.read(env);
    if (url && urlSource) throw new ConfigurationError('set KMS_POSTGRES_URL or KMS_POSTGRES_URL_SOURCE, not both');
    if (!url && !urlSource) {
      throw new ConfigurationError(
        'KMS_KEY_STORE=postgres needs KMS_POSTGRES_URL (postgres://user:password@host:5432/database) or KMS_POSTGRES_URL_SOURCE (alibaba-kms-secret:<secret-name>)',
      );
    }
    const schema = POSTGRES_SCHEMA.read(env);
    return { ...(url ? { url } : { urlSource: urlSource! }), ...(schema ? { schema } : {}), rootKey: rootKeySourceFromEnvironment(env) };
  },
  ownNonces: 'shared',
  perInstance: false,
  rootKey: (config) => config.rootKey,
  open: async (config, options) => (await import('./postgres-backend.js')).openPostgresState(config, options),
};
