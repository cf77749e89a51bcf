import { mkdir } from 'node:fs/promises';
import { serviceFromEnvironment, ENV_DEFAULTS } from '../../lib/service-from-env.js';
import { bootstrapAdmin } from './bootstrap.js';
import { applySeed, readSeedFile } from './seed.js';
import { DEFAULT_SCHEDULE_INTERVAL_MS, startScheduledJobs } from './scheduler.js';
import { startGateway } from './server.js';

/** An environment variable the gateway cannot use; the message names it. */
class ConfigurationError extends Error {}

/** Defaults of the gateway's own environment variables. */
export const GATEWAY_DEFAULTS = { KMS_HOST: '127.0.0.1', KMS_PORT: 8080 } as const;

/**
 * The local gateway on the embedded file store: `npm start` (through ./start.ts) and `kms serve`.
 * Resolves once the gateway is ready; it then runs until SIGTERM or SIGINT, which exit 0.
 * Rejects when it cannot start (a bad variable, a malformed or contradicting seed, a busy port).
 * Environment: KMS_HOST, KMS_PORT, KMS_DATA_DIR, KMS_SEED_FILE (+ the service's, see service-from-env).
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dataDir = env.KMS_DATA_DIR ?? ENV_DEFAULTS.KMS_DATA_DIR;
  const host = env.KMS_HOST ?? GATEWAY_DEFAULTS.KMS_HOST;
  const port = env.KMS_PORT === undefined ? GATEWAY_DEFAULTS.KMS_PORT : Number(env.KMS_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigurationError(`KMS_PORT must be a port number, not "${env.KMS_PORT}"`);

  // A malformed seed is refused before anything is created.
  const seed = env.KMS_SEED_FILE ? await readSeedFile(env.KMS_SEED_FILE) : undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const service = await serviceFromEnvironment({ ...env, KMS_DATA_DIR: dataDir });
  if (seed) await applySeed(seed, service);
  const credentials = await bootstrapAdmin(dataDir, service.accessKeys);
  if (credentials) console.log(`created an admin access key (kms:* on *); its credentials are in ${credentials}`);

  const interval = env.KMS_SCHEDULE_INTERVAL_MS === undefined ? DEFAULT_SCHEDULE_INTERVAL_MS : Number(env.KMS_SCHEDULE_INTERVAL_MS);
  if (!Number.isInteger(interval) || interval < 100) throw new ConfigurationError('KMS_SCHEDULE_INTERVAL_MS must be a whole number of milliseconds, at least 100');

  const gateway = await startGateway({ service, host, port });
  const stopJobs = startScheduledJobs(service, interval);
  console.log(`kms gateway ready at ${gateway.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('stopping', { signal });
    Promise.all([gateway.close(), stopJobs()]).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
