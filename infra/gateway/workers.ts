import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../lib/logger.js';

/** A worker that dies this soon after it started, this many times in a row, is not started again. */
const CRASH_LOOP_MS = 5_000;
const CRASH_LOOP_LIMIT = 5;

export interface WorkerPool {
  /** The address the workers listen on, as the first of them reported it. */
  address: { address: string; port: number; family: string };
  /**
   * Sends `signal` to every worker that serves (SIGHUP: reopen the logs, take the certificate). Not
   * to one still starting: one that has not yet run its entry's first line would be ended by it;
   * once it listens it catches up by itself (see hangup-generation.ts).
   */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to every worker (each drains as a single gateway does); resolves when all have exited. */
  stop(): Promise<void>;
}

/**
 * The primary's side of KMS_WORKERS > 1: forks `count` gateway workers (node:cluster; they share
 * the listening socket, connections handed out round robin) and resolves once every one listens.
 * A worker that dies while the pool runs is replaced (unless it keeps dying at start). Rejects,
 * after stopping the others, when a worker fails to start. A worker ended by SIGHUP is replaced,
 * before the pool is ready too: the signal (`systemctl kill -s HUP` reaches every process of the
 * service) came before node ran its entry's first line, which keeps it from then on (hangup.ts).
 * `setup` sees each worker as it is forked (the primary answers its nonce claims).
 *
 * What must happen once (seeding, the admin key, scheduled jobs, the metrics listener) stays in
 * the primary; every worker opens the same state, so a nonce one worker accepted is refused by
 * every other (the backend's shared nonce claims).
 */
export function startWorkers(count: number, logger: Logger, setup: (worker: Worker) => void): Promise<WorkerPool> {
  let stopping = false;
  let address: WorkerPool['address'] | undefined;
  const listening = new Set<Worker>();
  const startedAt = new Map<Worker, number>();
  let quickDeaths = 0;

  return new Promise((resolve, reject) => {
    let ready = false;
    const fork = () => {
      const worker = cluster.fork();
      // A send to a worker that just died fails (EPIPE) as an 'error' event: without a listener it
      // would take the primary, and every other worker, down with it.
      worker.on('error', (err) => logger.warn('could not reach a gateway worker', { pid: worker.process.pid, error: err.message }));
      setup(worker);
      startedAt.set(worker, Date.now());
      return worker;
    };
    const stopAll = () => {
      stopping = true;
      const exits = Object.values(cluster.workers ?? {}).map((worker) =>
        worker && !worker.isDead()
          ? new Promise<void>((done) => {
              worker.once('exit', () => done());
              worker.process.kill('SIGTERM');
            })
          : Promise.resolve(),
      );
      return Promise.all(exits).then(() => undefined);
    };

    cluster.on('listening', (worker, at) => {
      listening.add(worker);
      if (ready) logger.info('gateway worker started', { pid: worker.process.pid });
      address ??= { address: at.address ?? '127.0.0.1', port: at.port, family: at.addressType === 6 ? 'IPv6' : 'IPv4' };
      if (!ready && listening.size === count) {
        ready = true;
        resolve({
          address,
          signal: (signal) => {
            for (const w of listening) if (!w.isDead()) w.process.kill(signal);
          },
          stop: stopAll,
        });
      }
    });

    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker);
      if (stopping) return;
      if (signal === 'SIGHUP') {
        // Not a fault of the worker, and not one that repeats: not counted as a crash.
        logger.warn('gateway worker hung up before it could take SIGHUP; starting another', { pid: worker.process.pid });
        fork();
        return;
      }
      if (!ready) {
        // A worker that cannot start means the gateway cannot: the reason is on its stderr.
        void stopAll().then(() => reject(new Error(`a gateway worker could not start (exit ${code ?? signal}); its error is above`)));
        return;
      }
      const lived = Date.now() - (startedAt.get(worker) ?? 0);
      quickDeaths = lived < CRASH_LOOP_MS ? quickDeaths + 1 : 0;
      logger.error('gateway worker died', { pid: worker.process.pid, code, signal, livedMs: lived });
      if (quickDeaths >= CRASH_LOOP_LIMIT) {
        logger.error('gateway workers keep dying at start; not starting another', { deaths: quickDeaths });
        // With none left, nothing serves the port: exit, so a supervisor restarts the gateway.
        if (!Object.values(cluster.workers ?? {}).some((w) => w && !w.isDead())) process.exit(1);
        return;
      }
      fork();
    });

    for (let i = 0; i < count; i++) fork();
  });
}
