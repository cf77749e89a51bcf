import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { JournaledNonceStore } from './auth/nonce-journal.js';
import { FileKeyStore } from './keystore/file-store.js';
import { isLogLevel, createLogger } from './logger.js';
import { createService, DEFAULTS, type Service } from './service.js';

/** The defaults of the environment variables the service reads, declared once. */
export const ENV_DEFAULTS = {
  KMS_DATA_DIR: './.kms-data',
  KMS_LOG_LEVEL: 'info',
} as const;

export const NONCE_JOURNAL_FILE = 'nonces.journal';

/**
 * The service as configured by environment variables (Lambda, Function Compute, the gateway):
 * `KMS_DATA_DIR`, `KMS_REGION`, `KMS_ACCOUNT_ID`, `KMS_CACHE_TTL_MS`, `KMS_LOG_LEVEL`.
 */
export async function serviceFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Service> {
  const level = env.KMS_LOG_LEVEL ?? ENV_DEFAULTS.KMS_LOG_LEVEL;
  if (!isLogLevel(level)) throw new Error(`KMS_LOG_LEVEL must be debug, info, warn, error or silent, not "${level}"`);
  const ttl = env.KMS_CACHE_TTL_MS === undefined ? DEFAULTS.cacheTtlMs : Number(env.KMS_CACHE_TTL_MS);
  if (!Number.isInteger(ttl) || ttl < 0) throw new Error('KMS_CACHE_TTL_MS must be a whole number of milliseconds');
  const dataDir = env.KMS_DATA_DIR ?? ENV_DEFAULTS.KMS_DATA_DIR;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  return createService({
    store: new FileKeyStore(dataDir),
    // Replay protection that survives a restart: used nonces are journaled beside the keys.
    nonces: await JournaledNonceStore.open(join(dataDir, NONCE_JOURNAL_FILE)),
    region: env.KMS_REGION ?? DEFAULTS.region,
    accountId: env.KMS_ACCOUNT_ID ?? DEFAULTS.accountId,
    cacheTtlMs: ttl,
    logger: createLogger({ level }),
  });
}
