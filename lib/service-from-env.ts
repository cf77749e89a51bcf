import { auditLogFromEnvironment } from './audit/audit-log.js';
import type { AuditTrail, RecentAuditRecords } from './audit/recent-records.js';
import { BACKENDS, KEY_STORE, wiringOf } from './config/backends.js';
import { NONCE_STORE, NONCE_TABLE, type NonceConfig, readServiceConfig, readStateConfig, SINGLE_INSTANCE, type StateConfig } from './config/service.js';
import type { Environment } from './config/variable.js';
import { openNonceJournal } from './keystore/file/file-backend.js';
import type { KeyStore } from './keystore/key-store.js';
import { MemoryNonceStore, type NonceStore } from './keystore/nonce-store.js';
import { LineFile } from './log-file.js';
import { createLogger, type Logger, toolLogger } from './logger.js';
import type { RateLimits } from './ratelimit/limits.js';
import type { Admission } from './ratelimit/rate-limiter.js';
import { createService, type Service } from './service.js';

/*
 * Composition: the configuration read (lib/config/), the backend picked from the table
 * (lib/config/backends.ts) and opened by its own wiring, the service built on it. No backend is
 * named here.
 */

export { NONCE_JOURNAL_FILE } from './keystore/file/file-backend.js';
export { NoKeyStoreError } from './keystore/existing-store.js';

export interface ServiceOptions {
  /**
   * Replaces a replay store that lives in this process (the journal, memory) — one shared
   * elsewhere (the backend's, DynamoDB) is kept. The gateway's workers pass one that asks the
   * primary, so they share one replay record without taking the journal's lock in turn.
   */
  localNonces?: NonceStore;
  /** Replaces this process's rate-limit buckets (the gateway's workers pass one that asks the primary). */
  rateLimiter?: (limits: RateLimits) => Admission;
  /**
   * Keep this process's recent audit records here (see lib/service.ts): the local gateway does,
   * so ListAuditEvents can serve them; the cloud functions do not.
   */
  recentAudit?: RecentAuditRecords;
  /** What ListAuditEvents serves instead of `recentAudit` (a gateway worker's asks the primary). */
  auditTrail?: AuditTrail;
}

/**
 * The service as the environment configures it (Lambda, Function Compute, the gateway): see
 * lib/config/service.ts for the variables, and docs/configuration.md for the table of them.
 */
export async function serviceFromEnvironment(env: Environment = process.env, options: ServiceOptions = {}): Promise<Service> {
  const config = readServiceConfig(env);
  const audit = await auditLogFromEnvironment(config.auditLog);
  const { logging } = config;
  // Powertools is loaded only on Lambda: the gateway and the CLI start without it.
  const logger: Logger =
    logging.logger === 'powertools'
      ? (await import('./logger-powertools.js')).createPowertoolsLogger({ level: logging.level, serviceName: logging.serviceName })
      : createLogger({ level: logging.level, ...(logging.accessLog ? { accessLog: LineFile.open(logging.accessLog, 'KMS_ACCESS_LOG') } : {}) });
  const { store, nonces } = await openState(config.state, logger, options.localNonces);
  return createService({
    store,
    nonces,
    rateLimits: config.rateLimits,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter(config.rateLimits) } : {}),
    audit,
    ...(options.recentAudit ? { recentAudit: options.recentAudit } : {}),
    ...(options.auditTrail ? { auditTrail: options.auditTrail } : {}),
    region: config.region,
    ...(config.awsRegions ? { awsRegions: config.awsRegions } : {}),
    accountId: config.accountId,
    cacheTtlMs: config.cacheTtlMs,
    logger,
  });
}

/** The key store and the replay store: the backend's own, or the one configured beside it. */
async function openState(state: StateConfig, logger: Logger, localNonces?: NonceStore): Promise<{ store: KeyStore; nonces: NonceStore }> {
  const wiring = wiringOf(state);
  const inProcess = state.nonces.kind === 'journal' || state.nonces.kind === 'memory';
  const replaced = localNonces !== undefined && inProcess;
  const own = state.nonces.kind === 'backend' || (state.nonces.kind === 'journal' && wiring.ownNonces === 'journal');
  const opened = await wiring.open(state.backend, { logger, nonces: own && !replaced, mustExist: false });
  if (replaced) return { store: opened.store, nonces: localNonces };
  if (opened.nonces) return { store: opened.store, nonces: opened.nonces };
  // The backend's own (`backend`) was opened above; the others are kept beside it.
  const beside = state.nonces as Exclude<NonceConfig, { kind: 'backend' }>;
  try {
    return { store: opened.store, nonces: await NONCE_STORES[beside.kind](beside as never, logger) };
  } catch (err) {
    // A build that fails is retried (a cloud function's next request): it must not leave a pool open.
    await opened.close().catch(() => undefined);
    throw err;
  }
}

/** The replay stores kept beside a key store, by `KMS_NONCE_STORE` (`backend`: the backend's own, opened with it). */
const NONCE_STORES: { [K in Exclude<NonceConfig['kind'], 'backend'>]: (config: Extract<NonceConfig, { kind: K }>, logger: Logger) => Promise<NonceStore> } = {
  journal: (config) => openNonceJournal(config.dataDir),
  // Shared by every instance: a nonce used on one is refused by all. The AWS SDK is loaded only here.
  dynamodb: async (config, logger) => (await import('./keystore/dynamodb/dynamodb-backend.js')).openDynamoDbNonceTable(config.table, config.region, logger),
  memory: async (_config, logger) => {
    logger.warn('replay protection is per instance only (in memory): set KMS_NONCE_TABLE to share it across instances');
    return new MemoryNonceStore();
  },
};

/** A key store opened for a tool, with what it holds open (a database pool, a client) to close. */
export interface OpenedKeyStore {
  store: KeyStore;
  close(): Promise<void>;
}

/**
 * The key store alone, as the environment selects it, for tools that administer the store
 * directly (`kms access-keys`, `kms store copy`). Close it when done.
 *
 * With `mustExist`, a store that holds nothing (a data directory that is missing or empty, an empty
 * database, table or prefix) is a NoKeyStoreError, and nothing is created: no directory, no root
 * key, no seal. A tool pointed at the wrong place must not start a store of its own there.
 */
export async function openKeyStoreFromEnvironment(
  env: Environment = process.env,
  logger: Logger = toolLogger(),
  options: { mustExist?: boolean; sealInPlace?: boolean } = {},
): Promise<OpenedKeyStore> {
  // Administering the store involves no requests, so no replay store: none is required of a
  // backend that keeps none, and a tool is one process wherever it runs.
  const keepsNone = BACKENDS[KEY_STORE.read(env)].ownNonces === undefined && !NONCE_TABLE.read(env) && !NONCE_STORE.read(env);
  const state = readStateConfig({ ...env, ...(keepsNone ? { [NONCE_STORE.name]: 'memory' } : {}), [SINGLE_INSTANCE.name]: 'true' });
  const { store, close } = await wiringOf(state).open(state.backend, {
    logger,
    nonces: false,
    mustExist: options.mustExist === true,
    ...(options.sealInPlace ? { sealInPlace: true } : {}),
  });
  return { store, close };
}

/** {@link openKeyStoreFromEnvironment}'s store, left open for the life of the process. */
export async function keyStoreFromEnvironment(env: Environment = process.env, logger: Logger = toolLogger()): Promise<KeyStore> {
  return (await openKeyStoreFromEnvironment(env, logger)).store;
}
