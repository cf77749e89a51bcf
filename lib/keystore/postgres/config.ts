import { ConfigurationError, type Environment, optionalText, variable } from '../../config/variable.js';
import * as z from '../../zod.js';
import type { BackendWiring } from '../backend.js';
import { rootKeySourceFromEnvironment } from '../config.js';
import type { PostgresConfig } from './postgres-backend.js';
import { DEFAULT_SCHEMA } from './schema.js';
import type { PostgresUrlSource } from './url-secret.js';

export const POSTGRES_URL = optionalText('KMS_POSTGRES_URL', {
  shownDefault: '— (with `postgres`, this or `KMS_POSTGRES_URL_SOURCE`)',
  doc: '`postgres://user:password@host:5432/database` (`?sslmode=require` for RDS); with `KMS_POSTGRES_URL_SOURCE` holding an RDS account, the address alone',
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
    doc: '`alibaba-kms-secret:<secret-name>`: the URL from a secret, so that no environment holds the password; its text is the URL, or an RDS account (`{"AccountName","AccountPassword"}`, a KMS-managed RDS secret) put into the address `KMS_POSTGRES_URL` gives; read with `GetSecretValue` at start, once per instance (credentials as for `KMS_ROOT_KEY_SOURCE`)',
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
    if (url && urlSource && hasCredentials(url)) {
      throw new ConfigurationError(
        'KMS_POSTGRES_URL holds a user or password: with KMS_POSTGRES_URL_SOURCE it gives only the address (postgres://host:5432/database), the secret the rest',
      );
    }
    if (!url && !urlSource) {
      throw new ConfigurationError(
        'KMS_KEY_STORE=postgres needs KMS_POSTGRES_URL (postgres://user:password@host:5432/database) or KMS_POSTGRES_URL_SOURCE (alibaba-kms-secret:<secret-name>)',
      );
    }
    const schema = POSTGRES_SCHEMA.read(env);
    return { ...(url ? { url } : {}), ...(urlSource ? { urlSource } : {}), ...(schema ? { schema } : {}), rootKey: rootKeySourceFromEnvironment(env) };
  },
  ownNonces: 'shared',
  perInstance: false,
  rootKey: (config) => config.rootKey,
  open: async (config, options) => (await import('./postgres-backend.js')).openPostgresState(config, options),
};

/** Whether a PostgreSQL URL names a user or a password (an unparsable one counts as holding them). */
function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return true;
  }
}
