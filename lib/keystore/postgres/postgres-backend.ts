import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { OpenedBackend, OpenOptions, StateBackend } from '../backend.js';
import { requireKeyStore } from '../existing-store.js';
import type { KeyStore } from '../key-store.js';
import { type RootKeySource, sealWithRootKey } from '../root-key.js';
import { PostgresDatabase } from './database.js';
import { describePgError, unavailableReason } from './errors.js';
import { PostgresNonceStore } from './postgres-nonce-store.js';
import { PostgresKeyStore } from './postgres-store.js';
import { assertSchemaName, DEFAULT_SCHEMA } from './schema.js';
import { forgetPostgresUrl, type PostgresUrlSource, postgresUrlFromSecret } from './url-secret.js';

export { PostgresKeyStore } from './postgres-store.js';
export { PostgresNonceStore, type PostgresNonceStoreOptions } from './postgres-nonce-store.js';
export { DEFAULT_SCHEMA, SCHEMA_VERSION } from './schema.js';

export interface PostgresBackendOptions {
  /** `postgres://user:password@host:5432/database?sslmode=…`; the backend builds and owns its pool. Or: */
  connectionString?: string | undefined;
  /**
   * A pool to use (left open on close). Its timeouts are the caller's: set `connectionTimeoutMillis`,
   * `statement_timeout` and `query_timeout` as {@link POOL_DEFAULTS} does, or an outage may hang requests.
   */
  pool?: pg.Pool | undefined;
  /** The schema of the tables (default `kms`), created if missing: lower-case letters, digits, `_`. */
  schema?: string | undefined;
  /** Connections of the pool the backend builds (default 10). */
  poolSize?: number | undefined;
  logger?: Logger | undefined;
  /** How long to wait for a connection, from the pool or a new one (default 2 s). */
  connectionTimeoutMs?: number | undefined;
  /** The server cancels a statement after this (default 5 s); the client gives up 2 s later. */
  statementTimeoutMs?: number | undefined;
  /** How often expired nonces are removed (default every minute). */
  nonceCleanupIntervalMs?: number | undefined;
  /** The clock of nonce expiries (default Date.now). */
  now?: (() => number) | undefined;
  /**
   * For tools that must not start a store where there is none: called before anything is created
   * or migrated, with the schema's store as it is (read without migrating), or undefined when the
   * schema has none of this backend's tables. When it throws, the open rejects with its error and
   * the database is left exactly as it was.
   */
  requireStore?: ((asItIs: KeyStore | undefined) => Promise<void>) | undefined;
}

/**
 * The pool the backend builds: an outage fails fast (a connection within 2 s, a statement within
 * 5 s, else an error that becomes a 503) instead of holding requests until the caller times out;
 * `query_timeout` (client side) also covers a server or network that stops answering altogether.
 * Keep-alive finds dead connections; idle ones do not keep the process alive.
 */
export const POOL_DEFAULTS = {
  poolSize: 10,
  connectionTimeoutMs: 2_000,
  statementTimeoutMs: 5_000,
  /** Added to the statement timeout for the client-side read timeout: the server's cancel comes first. */
  queryTimeoutMarginMs: 2_000,
  idleTimeoutMs: 30_000,
  nonceCleanupIntervalMs: 60_000,
} as const;

/**
 * The `postgres` state backend (self-hosted clusters; Function Compute with RDS): key-store
 * entries ({@link PostgresKeyStore}) and used nonces ({@link PostgresNonceStore}) in one schema of
 * one database, shared by every instance.
 *
 * Opening creates the schema or migrates it to the current version (idempotent, and safe when
 * several instances start at once; see ./schema.ts). When the database cannot be reached at that
 * moment, the backend opens anyway, logs a warning, and migrates on first use: until then every
 * call fails as an outage (KeyStoreUnavailableError from the store, ServiceUnavailableError from
 * the nonces), so a service can start before its database and answer 503 meanwhile. Any other
 * failure (bad credentials, a missing privilege, a schema of a newer release) rejects the open.
 *
 * `close()` stops the nonce cleanup and ends the pool if the backend built it; idempotent.
 */
export async function openPostgresBackend(options: PostgresBackendOptions): Promise<StateBackend> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const hasUrl = options.connectionString !== undefined && options.connectionString !== '';
  if (hasUrl === (options.pool !== undefined)) throw new Error('openPostgresBackend needs either a connectionString or a pool (not both)');
  const { logger } = options;
  const owned = options.pool === undefined;
  const pool = options.pool ?? createPool(options.connectionString!, options);
  // An idle connection that breaks (server restart, failover) is reported on the pool; with no
  // listener that would end the process. The pool has dropped it already: a new one is made on use.
  const onPoolError = (err: Error) => logger?.warn('postgres connection lost while idle', { backend: 'postgres', error: describePgError(err) });
  pool.on('error', onPoolError);
  const release = async () => {
    // An owned pool keeps the listener: its end() resolves before its connections have closed,
    // and one that fails meanwhile (the server going down at that moment) is still reported.
    if (owned) await pool.end();
    else pool.off('error', onPoolError);
  };

  if (options.requireStore) {
    try {
      const asItIs = new PostgresKeyStore(new PostgresDatabase(pool, schema, { migrate: false }), logger);
      await options.requireStore((await asItIs.schemaVersion()) > 0 ? asItIs : undefined);
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
  }

  const db = new PostgresDatabase(pool, schema);
  try {
    await db.ready();
  } catch (err) {
    const reason = unavailableReason(err);
    if (!reason) {
      await release().catch(() => undefined);
      throw err;
    }
    logger?.warn('postgres unreachable at start: the schema is migrated on first use, and calls fail as unavailable until then', {
      backend: 'postgres',
      schema,
      reason,
      error: describePgError(err),
    });
  }

  const store = new PostgresKeyStore(db, logger);
  const nonces = new PostgresNonceStore(db, { ...(options.now ? { now: options.now } : {}), ...(logger ? { logger } : {}) });
  const stopCleanup = nonces.startCleanup(options.nonceCleanupIntervalMs ?? POOL_DEFAULTS.nonceCleanupIntervalMs);
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    store,
    nonces,
    close() {
      closing ??= stopCleanup().then(release);
      return closing;
    },
  };
}

function createPool(connectionString: string, options: PostgresBackendOptions): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? POOL_DEFAULTS.statementTimeoutMs;
  return new pg.Pool({
    connectionString,
    max: options.poolSize ?? POOL_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? POOL_DEFAULTS.connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + POOL_DEFAULTS.queryTimeoutMarginMs,
    idleTimeoutMillis: POOL_DEFAULTS.idleTimeoutMs,
    keepAlive: true,
    allowExitOnIdle: true,
    application_name: 'alibaba-kms-compatible',
  });
}

/** The postgres backend as a deployment configures it (./config.ts reads it). */
export interface PostgresConfig {
  /** The URL itself; or, with `urlSource` holding an RDS account, the address it goes into. */
  url?: string;
  /** The secret that holds the URL (or an RDS account), read when the store is opened. */
  urlSource?: PostgresUrlSource;
  schema?: string;
  rootKey: RootKeySource;
}

/** The schema a configuration points at, as a NoKeyStoreError names it (never the URL: it may hold a password). */
function postgresLocation(config: PostgresConfig): string {
  return `in the PostgreSQL database of ${config.urlSource ? 'KMS_POSTGRES_URL_SOURCE' : 'KMS_POSTGRES_URL'}${config.schema ? `, schema ${config.schema}` : ''}`;
}

/**
 * The postgres backend as the service uses it: its store sealed under the root key, and its
 * replay store when `nonces`. With `mustExist`, the schema is looked at before it is created or
 * migrated, and refused as it is.
 */
export async function openPostgresState(config: PostgresConfig, options: OpenOptions): Promise<OpenedBackend> {
  const { urlSource } = config;
  const url = urlSource ? await postgresUrlFromSecret(urlSource, { address: config.url }) : config.url!;
  let backend: StateBackend;
  try {
    backend = await openPostgresBackend({
      connectionString: url,
      ...(config.schema ? { schema: config.schema } : {}),
      logger: options.logger,
      ...(options.mustExist ? { requireStore: (asItIs: KeyStore | undefined) => requireKeyStore(asItIs, postgresLocation(config)) } : {}),
    });
  } catch (err) {
    // Refused (a rotated password, a moved database): the next start reads the secret again.
    if (urlSource) forgetPostgresUrl(urlSource);
    throw err;
  }
  try {
    // Sealed since its first release: values in the clear are sealed only when an operator asks
    // (`kms store seal`), never taken in on a start (whoever may write the database may not
    // hold the root key).
    const store = await sealWithRootKey(backend.store, config.rootKey, { sealInPlace: options.sealInPlace ? 'automatic' : 'explicit' });
    return { store, ...(options.nonces ? { nonces: backend.nonces } : {}), close: () => backend.close() };
  } catch (err) {
    // A build that fails is retried (a cloud function's next request): it must not leave a pool open.
    await backend.close().catch(() => undefined);
    throw err;
  }
}
