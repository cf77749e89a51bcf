import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { collectProcessMetrics, registry } from '../../lib/metrics/prometheus.js';
import type { Service } from '../../lib/service.js';
import { SCHEDULE_INTERVAL_MS, SEED_FILE } from '../../lib/config/gateway.js';
import { DATA_DIR } from '../../lib/keystore/config.js';
import { serviceFromEnvironment } from '../../lib/service-from-env.js';
import { bootstrapAdmin } from './bootstrap.js';
import { GATEWAY_DEFAULTS, type GatewayConfig, readGatewayConfig } from './config.js';
import { startMetricsServer } from './metrics-server.js';
import { applySeed, readSeedFile } from '../../lib/seed.js';
import { startScheduledJobs } from './scheduler.js';
import { type Gateway, startGateway } from './server.js';
import { readTlsOptions, type TlsOptions } from './tls.js';
import { Certificates } from './certificates.js';
import { createDataDirectory } from './data-directory.js';
import { onHangup, recordHangups, reopenLogs } from './hangup.js';
import { HANGUP_STATE, HangupGeneration, type HangupState, hangupStateFromPrimary } from './hangup-generation.js';
import { NONCE_CLAIM, nonceClaimHandler, RelayedNonceStore } from './nonce-relay.js';
import { RATE_ADMIT, rateAdmitHandler, RelayedRateLimiter } from './rate-relay.js';
import { answerWorkerCalls, WorkerCalls } from './worker-calls.js';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { AUDIT_TRAIL, answerAuditRecordQuestions, auditTrailHandler, gatheredAuditTrail, RelayedAuditTrail } from './audit-trail-relay.js';
import { RateLimiter } from '../../lib/ratelimit/rate-limiter.js';
import { startWorkers, type WorkerPool } from './workers.js';

export { GATEWAY_DEFAULTS };

/**
 * The local gateway: `npm start` (through ./start.ts) and `kms serve`. Resolves once the gateway
 * is ready; it then runs until SIGTERM or SIGINT, which drain it and exit 0 (SIGHUP reopens the
 * log files and reloads the TLS certificate; it never stops it, nor its start: one that comes
 * while it starts is handled once it serves, see hangup.ts). Rejects when it cannot start (a bad
 * variable, a malformed or contradicting seed, a busy port, plain HTTP off loopback, TLS files
 * that cannot serve, a log or data directory whose parent is missing). Environment: the
 * gateway's variables (lib/config/gateway.ts, checked together by ./config.ts), KMS_DATA_DIR, and
 * the service's (lib/config/service.ts).
 *
 * With KMS_WORKERS > 1 this process is the primary: it seeds, creates the admin key, runs the
 * scheduled jobs and the metrics listener (summing the workers'), and forks the workers that serve
 * the port (node:cluster re-runs this same entry point in each, which lands in {@link worker}).
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // The entry points did so before loading this module; a caller that did not is covered from here.
  recordHangups();
  const config = readGatewayConfig(env);
  const dataDir = DATA_DIR.read(env);
  if (cluster.isWorker) return worker(env, config, dataDir);
  const interval = SCHEDULE_INTERVAL_MS.read(env);
  const tls = config.tls ? await readTlsOptions(config.tls) : undefined;

  // A malformed seed is refused before anything is created.
  const seedFile = SEED_FILE.read(env);
  const seed = seedFile ? await readSeedFile(seedFile) : undefined;
  await createDataDirectory(dataDir);
  // The recent audit records ListAuditEvents serves: this process's (with workers, its scheduled jobs').
  const recentAudit = new RecentAuditRecords();
  const service: Service = await serviceFromEnvironment({ ...env, KMS_DATA_DIR: dataDir }, { recentAudit });
  if (seed) await applySeed(seed, service);
  const admin = await bootstrapAdmin(dataDir, service.accessKeys);
  if (admin?.keptExisting) console.log(`${admin.keptExisting} exists and was left as it is: it is not for this store, which had no access key`);
  if (admin) console.log(`created an admin access key (kms:* on *); its credentials are in ${admin.path}`);

  // One process serves the port itself; more are workers, forked once the state is seeded.
  const certificates = tls ? new Certificates(config.tls!, tls, service.logger) : undefined;
  const serving: Serving =
    config.workers > 1 ? await serveFromWorkers(service, recentAudit, config, certificates) : await serveHere(service, config, certificates);
  const metrics = config.metrics
    ? await startMetricsServer(config.metrics.host, config.metrics.port, config.workers === 1 ? undefined : aggregatedWorkerMetrics())
    : undefined;
  const stopJobs = startScheduledJobs(service, interval);
  if (!tls && config.plaintextAllowed)
    console.log(
      `warning: plain HTTP on ${config.host} (KMS_ALLOW_PLAINTEXT_HTTP=true): data keys cross the network in the clear unless a proxy terminates TLS in front`,
    );
  if (metrics) console.log(`kms metrics at ${metrics.url}`);
  if (config.workers > 1) console.log(`kms gateway serving from ${config.workers} worker processes`);

  onHangup(async () => {
    await reopenLogs(service);
    await serving.hangUp();
  });
  onStopSignal(service, config, () => Promise.all([serving.close(), stopJobs(), metrics?.close()]));
  // Last: a supervisor may signal as soon as it reads this line, and a SIGTERM that came before
  // the handler above would kill the process undrained (exit by signal, not 0).
  console.log(`kms gateway ready at ${serving.url}`);
}

/** What serves the port: this process's own server, or the workers. */
interface Serving {
  url: string;
  /** SIGHUP's part here: reloads the certificate, if any; with workers, then each reopens its logs and takes the pair (see HangupGeneration). */
  hangUp(): Promise<unknown>;
  /** Drains and stops serving. */
  close(): Promise<unknown>;
}

async function serveHere(service: Service, config: GatewayConfig, certificates: Certificates | undefined): Promise<Serving> {
  const gateway = await listen(service, config, certificates?.current);
  return {
    url: gateway.url,
    hangUp: async () => certificates?.reload((options) => gateway.reloadTls(options)),
    close: () => gateway.close(config.shutdownGraceMs),
  };
}

async function serveFromWorkers(
  service: Service,
  recentAudit: RecentAuditRecords,
  config: GatewayConfig,
  certificates: Certificates | undefined,
): Promise<Serving> {
  const limiter = service.rateLimiter;
  if (!(limiter instanceof RateLimiter)) throw new Error('the gateway primary keeps the rate-limit buckets itself');
  const hangups = new HangupGeneration(certificates);
  const handlers = {
    [NONCE_CLAIM]: nonceClaimHandler(service.nonces),
    [RATE_ADMIT]: rateAdmitHandler(limiter),
    [HANGUP_STATE]: hangups.answer,
    // Every process's recent audit records, asked for only when a worker serves ListAuditEvents.
    [AUDIT_TRAIL]: auditTrailHandler(gatheredAuditTrail(recentAudit, liveWorkers)),
  };
  const pool: WorkerPool = await startWorkers(config.workers, service.logger, (worker) => answerWorkerCalls(worker, handlers));
  const { address, port, family } = pool.address;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}/`,
    // The workers that listen are signalled: each reopens its own log files and takes the pair the
    // primary holds then. One still starting catches up once it listens, from the generation.
    hangUp: async () => {
      await certificates?.reload();
      hangups.advance();
      pool.signal('SIGHUP');
    },
    close: () => pool.stop(),
  };
}

/**
 * A worker (KMS_WORKERS > 1): opens the state the primary seeded and serves the shared port, with
 * the certificate pair the primary holds (it never reads the files itself: see certificates.ts).
 */
async function worker(env: NodeJS.ProcessEnv, config: GatewayConfig, dataDir: string): Promise<void> {
  // One replay record, one set of rate-limit buckets and one certificate pair for all workers: the primary's.
  const calls = new WorkerCalls();
  // Taken before the log files are opened: a SIGHUP the primary handles after this is caught up with below.
  let seen: HangupState = await hangupStateFromPrimary(calls);
  if (config.tls && !seen.pair) throw new Error('the gateway primary sent no TLS certificate pair');
  // Its own recent audit records, which the primary gathers for a ListAuditEvents; one asks the primary for everyone's.
  const recentAudit = new RecentAuditRecords();
  answerAuditRecordQuestions(recentAudit);
  const service = await serviceFromEnvironment(
    { ...env, KMS_DATA_DIR: dataDir },
    {
      localNonces: new RelayedNonceStore(calls),
      rateLimiter: (limits) => new RelayedRateLimiter(limits, calls),
      recentAudit,
      auditTrail: new RelayedAuditTrail(calls),
    },
  );
  // The primary's /metrics asks every worker for its registry (constructing one installs the answering side).
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  if (config.metrics) collectProcessMetrics();
  const serving: Gateway = await listen(service, config, seen.pair);
  /**
   * SIGHUP's part in a worker: reopens the log files and takes the pair the primary holds now, if
   * it handled a SIGHUP since this worker last looked. `missedOnly`: nothing unless it did.
   */
  const hangUp = async (missedOnly: boolean) => {
    let now: HangupState | undefined;
    try {
      now = await hangupStateFromPrimary(calls);
    } catch (err) {
      service.logger.error('the gateway primary did not say what it did on SIGHUP; the TLS certificate in use stays', { error: (err as Error).message });
    }
    const missed = now !== undefined && now.generation !== seen.generation;
    if (missedOnly && !missed) return;
    await reopenLogs(service);
    if (missed) {
      if (now!.pair) serving.reloadTls(now!.pair);
      seen = now!;
    }
  };
  // The primary signals only workers that listen: one it handled while this worker was starting is caught up with here.
  await hangUp(true);
  onHangup(() => hangUp(false));
  onStopSignal(service, config, () => serving.close(config.shutdownGraceMs));
}

/** The workers that are connected (a dead or starting one does not answer; see gatheredAuditTrail). */
function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true && !w.isDead());
}

function listen(service: Service, config: GatewayConfig, tls: TlsOptions | undefined): Promise<Gateway> {
  return startGateway({
    service,
    host: config.host,
    port: config.port,
    ...(tls ? { tls } : {}),
    maxConnections: config.maxConnections,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
}

/**
 * The workers' metrics, summed (counters, histograms) or taken at their maximum, as one scrape,
 * with the primary's own (what only it counts: certificate reloads).
 */
function aggregatedWorkerMetrics(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  return async () => `${await aggregator.clusterMetrics()}${await registry.getSingleMetricAsString('kms_tls_reload_failures_total')}\n`;
}

/** SIGTERM or SIGINT: `stop` (a drain), then the audit log is flushed and the process exits 0. */
function onStopSignal(service: Service, config: GatewayConfig, stop: () => Promise<unknown>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('stopping', { signal, graceMs: config.shutdownGraceMs });
    const done = () => {
      void (service.audit?.close() ?? Promise.resolve()).catch(() => undefined).then(() => process.exit(0));
    };
    stop().then(done, done);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
