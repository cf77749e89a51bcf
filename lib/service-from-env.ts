import { FileKeyStore } from './keystore/file-store.js';
import { isLogLevel, createLogger } from './logger.js';
import { createService, DEFAULTS, type Service } from './service.js';

/** The defaults of the environment variables the service reads, declared once. */
export const ENV_DEFAULTS = {
  KMS_DATA_DIR: './.kms-data',
  KMS_LOG_LEVEL: 'info',
} as const;

/**
 * The service as configured by environment variables (Lambda, Function Compute, the gateway):
 * `KMS_DATA_DIR`, `KMS_REGION`, `KMS_ACCOUNT_ID`, `KMS_CACHE_TTL_MS`, `KMS_LOG_LEVEL`.
 */
export async function serviceFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Service> {
  const level = env.KMS_LOG_LEVEL ?? ENV_DEFAULTS.KMS_LOG_LEVEL;
  if (!isLogLevel(level)) throw new Error(`KMS_LOG_LEVEL must be debug, info, warn, error or silent, not "${level}"`);
  const ttl = env.KMS_CACHE_TTL_MS === undefined ? DEFAULTS.cacheTtlMs : Number(env.KMS_CACHE_TTL_MS);
  if (!Number.isInteger(ttl) || ttl < 0) throw new Error('KMS_CACHE_TTL_MS must be a whole number of milliseconds');
  return createService({
    store: new FileKeyStore(env.KMS_DATA_DIR ?? ENV_DEFAULTS.KMS_DATA_DIR),
    region: env.KMS_REGION ?? DEFAULTS.region,
    accountId: env.KMS_ACCOUNT_ID ?? DEFAULTS.accountId,
    cacheTtlMs: ttl,
    logger: createLogger({ level }),
  });
}
