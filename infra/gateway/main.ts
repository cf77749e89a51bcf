import { mkdir } from 'node:fs/promises';
import { ENV_DEFAULTS, serviceFromEnvironment } from '../../lib/service-from-env.js';
import { bootstrapAdmin } from './bootstrap.js';
import { ConfigurationError, GATEWAY_DEFAULTS, readGatewayConfig } from './config.js';
import { startMetricsServer } from './metrics-server.js';
import { applySeed, readSeedFile } from './seed.js';
import { DEFAULT_SCHEDULE_INTERVAL_MS, startScheduledJobs } from './scheduler.js';
import { startGateway } from './server.js';
import { readTlsOptions } from './tls.js';

export { GATEWAY_DEFAULTS };

/**
 * The local gateway: `npm start` (through ./start.ts) and `kms serve`. Resolves once the gateway
 * is ready; it then runs until SIGTERM or SIGINT, which drain it and exit 0 (SIGHUP reloads the
 * TLS certificate). Rejects when it cannot start (a bad variable, a malformed or contradicting
 * seed, a busy port, plain HTTP off loopback). Environment: see ./config.ts, KMS_DATA_DIR,
 * KMS_SEED_FILE, KMS_SCHEDULE_INTERVAL_MS, and the service's (lib/service-from-env.ts).
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = readGatewayConfig(env);
  const dataDir = env.KMS_DATA_DIR ?? ENV_DEFAULTS.KMS_DATA_DIR;
  const interval = env.KMS_SCHEDULE_INTERVAL_MS === undefined ? DEFAULT_SCHEDULE_INTERVAL_MS : Number(env.KMS_SCHEDULE_INTERVAL_MS);
  if (!Number.isInteger(interval) || interval < 100) throw new ConfigurationError('KMS_SCHEDULE_INTERVAL_MS must be a whole number of milliseconds, at least 100');
  const tls = config.tls ? await readTlsOptions(config.tls) : undefined;

  // A malformed seed is refused before anything is created.
  const seed = env.KMS_SEED_FILE ? await readSeedFile(env.KMS_SEED_FILE) : undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const service = await serviceFromEnvironment({ ...env, KMS_DATA_DIR: dataDir });
  if (seed) await applySeed(seed, service);
  const credentials = await bootstrapAdmin(dataDir, service.accessKeys);
  if (credentials) console.log(`created an admin access key (kms:* on *); its credentials are in ${credentials}`);

  const gateway = await startGateway({
    service,
    host: config.host,
    port: config.port,
    ...(tls ? { tls } : {}),
    maxConnections: config.maxConnections,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  const metrics = config.metrics ? await startMetricsServer(config.metrics.host, config.metrics.port) : undefined;
  const stopJobs = startScheduledJobs(service, interval);
  if (!tls && config.plaintextAllowed) console.log(`warning: plain HTTP on ${config.host} (KMS_ALLOW_PLAINTEXT_HTTP=true): data keys cross the network in the clear unless a proxy terminates TLS in front`);
  if (metrics) console.log(`kms metrics at ${metrics.url}`);
  console.log(`kms gateway ready at ${gateway.url}`);

  if (config.tls) {
    const files = config.tls;
    process.on('SIGHUP', () => {
      readTlsOptions(files).then(
        (options) => {
          gateway.reloadTls(options);
          service.logger.warn('TLS certificate reloaded', { cert: files.certFile });
        },
        (err: unknown) => service.logger.error('TLS certificate not reloaded; the previous one stays in use', { error: (err as Error).message }),
      );
    });
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('stopping', { signal, graceMs: config.shutdownGraceMs });
    const done = () => {
      void (service.audit?.close() ?? Promise.resolve()).catch(() => undefined).then(() => process.exit(0));
    };
    Promise.all([gateway.close(config.shutdownGraceMs), stopJobs(), metrics?.close()]).then(done, done);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
